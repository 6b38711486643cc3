import fs from 'node:fs';
import Database from 'better-sqlite3';
import * as grpc from '@grpc/grpc-js';
import type { SupportAdminServiceClient } from '../gen/support/admin/v1/admin';
import type { SupportClient } from '../gen/support';
import { connectAdmin, demoToken, unary, unaryCode, waitUntil } from './helpers/admin-client';
import { AgentStream, connect, CustomerStream, nextDescribed } from './helpers/chat-client';
import { startTestServer, type TestServer } from './helpers/test-server';

// Erasing a customer on SQLite leaves nothing of theirs readable in the database file or its
// write-ahead log: searched byte by byte, while the server keeps running.

const SECRET = 'zebra-unicorn-4711';
const CUSTOMER = 'erasable-customer-q7';
const KEPT = 'otter-pelican-2368';

let server: TestServer;
let chat: SupportClient;
let admin: SupportAdminServiceClient;
beforeEach(async () => {
  server = await startTestServer();
  chat = connect(server.address);
  admin = connectAdmin(server.address);
});
afterEach(async () => {
  chat.close();
  admin.close();
  await server.stop();
});

/** The database file and its write-ahead log, as they are on disk now. */
function databaseBytes(): Buffer {
  const wal = `${server.dbFile}-wal`;
  return Buffer.concat([fs.readFileSync(server.dbFile), fs.existsSync(wal) ? fs.readFileSync(wal) : Buffer.alloc(0)]);
}

const found = (text: string) => databaseBytes().includes(Buffer.from(text, 'utf8'));

test('after EraseCustomer neither the texts nor the customer id are in the database file or its WAL; the rest is', async () => {
  const agent = new AgentStream(chat, 'agent-a');
  // Sessions of both kinds, ended and open; one text longer than a page (it goes to overflow pages).
  for (let session = 0; session < 3; session++) {
    const customer = new CustomerStream(chat, CUSTOMER);
    await customer.init();
    await agent.accept();
    for (let i = 0; i < 40; i++) {
      customer.send(`${SECRET} message ${i} of session ${session}`);
      expect(await nextDescribed(agent)).toBe(`customer: ${SECRET} message ${i} of session ${session}`);
    }
    const long = `${SECRET} ${'x'.repeat(6000)} ${SECRET}`;
    customer.send(long);
    await nextDescribed(agent);
    if (session < 2) {
      customer.hangUp();
      expect(await nextDescribed(agent)).toBe('session ended');
    }
  }
  const other = new CustomerStream(chat, 'someone-else');
  await other.init();
  other.send(`${KEPT} stays`);
  await waitUntil(async () => (await unary(admin, 'listSessions', { state: 0, customerId: 'someone-else', agentId: '', createdAfter: undefined, createdBefore: undefined, pageSize: 0, pageToken: '' }, demoToken('admin-ops'))).sessions[0]?.entryCount === 1, 'the other customer\'s entry');

  expect(found(SECRET)).toBe(true); // the search finds what is there
  expect(found(CUSTOMER)).toBe(true);

  expect(await unary(admin, 'eraseCustomer', { customerId: CUSTOMER }, demoToken('admin-ops'))).toEqual({ sessionsErased: 3, entriesErased: 123 });
  expect(await nextDescribed(agent)).toBe('session ended'); // the open one's agent

  expect(found(SECRET)).toBe(false);
  expect(found(CUSTOMER)).toBe(false);
  expect(found(KEPT)).toBe(true);
  expect(fs.statSync(`${server.dbFile}-wal`).size).toBe(0);

  // The server goes on: the other customer's session is intact, and the erased customer can start again.
  other.send('still here');
  const again = new CustomerStream(chat, CUSTOMER);
  expect((await again.init()).history).toEqual([]);
  for (const stream of [agent, other, again]) stream.end();
});

test('erasing a customer nobody knows succeeds and erases nothing; a non-admin is refused before anything is deleted', async () => {
  const customer = new CustomerStream(chat, CUSTOMER);
  await customer.init();
  customer.send(SECRET);
  await waitUntil(async () => found(SECRET), 'the entry on disk');
  expect(await unary(admin, 'eraseCustomer', { customerId: 'nobody' }, demoToken('admin-ops'))).toEqual({ sessionsErased: 0, entriesErased: 0 });
  expect(await unaryCode(admin, 'eraseCustomer', { customerId: CUSTOMER }, demoToken('agent-a'))).toBe(grpc.status.PERMISSION_DENIED);
  expect(await unaryCode(admin, 'eraseCustomer', { customerId: CUSTOMER }, demoToken(CUSTOMER))).toBe(grpc.status.PERMISSION_DENIED);
  expect(found(SECRET)).toBe(true);
  customer.end();
});

test('while another connection reads an older snapshot, the log cannot be cleared: UNAVAILABLE, the rows are gone, and calling again clears it', async () => {
  const customer = new CustomerStream(chat, CUSTOMER);
  const sessionId = (await customer.init()).sessionId;
  customer.send(SECRET);
  await waitUntil(async () => found(SECRET), 'the entry on disk');
  // An operator's sqlite3 shell in the middle of a read transaction.
  const reader = new Database(server.dbFile, { readonly: true });
  try {
    reader.exec('BEGIN');
    reader.prepare('SELECT COUNT(*) FROM entries').get();
    const erasing = unary(admin, 'eraseCustomer', { customerId: CUSTOMER }, demoToken('admin-ops'));
    // The server keeps serving while the erasure waits for the log.
    expect(await unaryCode(admin, 'getQueueStatistics', {}, demoToken('admin-ops'))).toBe(grpc.status.OK);
    await expect(erasing).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE, details: expect.stringContaining('call again') });
    expect(await customer.endCode()).toBe(grpc.status.FAILED_PRECONDITION);
    expect(await unaryCode(admin, 'getSession', { sessionId }, demoToken('admin-ops'))).toBe(grpc.status.NOT_FOUND);
    expect(found(SECRET)).toBe(true); // still in the log
  } finally {
    reader.exec('COMMIT');
    reader.close();
  }
  expect(await unary(admin, 'eraseCustomer', { customerId: CUSTOMER }, demoToken('admin-ops'))).toEqual({ sessionsErased: 0, entriesErased: 0 });
  expect(found(SECRET)).toBe(false);
});
