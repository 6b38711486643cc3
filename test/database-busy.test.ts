import { expect } from '@jest/globals';
// Another process (an operator's sqlite3 shell) holds the database's write lock: the server keeps
// serving, writes wait without blocking it, fail with UNAVAILABLE after about 5 s, and recover.
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import type { SupportClient } from '../gen/support';
import { AgentStream, connect, CustomerStream, describeAgentResponse } from './helpers/chat-client';
import { watchEventLoop, type EventLoopWatch } from './helpers/event-loop-watch';
import { entryText } from './helpers/ordering-helpers';
import { logRecords, spawnServer, waitForListening, type ServerProcess } from './helpers/server-process';
import { makeTempDir, removeTempDir, startTestServer, type TestServer } from './helpers/test-server';
import { waitFor } from './helpers/wait';

let server: TestServer | undefined;
let clients: SupportClient[] = [];
let spawned: ServerProcess[] = [];
let locker: Database.Database | undefined;
let loopWatch: EventLoopWatch | undefined;
let dir: string;

beforeEach(() => {
  dir = makeTempDir();
});

afterEach(async () => {
  loopWatch?.stop();
  loopWatch = undefined;
  if (locker?.open) locker.close(); // rolls back, releasing the lock
  locker = undefined;
  for (const client of clients) client.close();
  clients = [];
  await server?.stop();
  server = undefined;
  for (const child of spawned) if (child.exitCode() === undefined) child.child.kill('SIGKILL');
  await Promise.all(spawned.map((child) => child.exited));
  spawned = [];
  removeTempDir(dir);
});

function newClient(address: string): SupportClient {
  const client = connect(address, { ownConnection: true });
  clients.push(client);
  return client;
}

/** A second connection to the server's database that takes the write lock, as `sqlite3` with BEGIN IMMEDIATE would. */
function holdWriteLock(dbFile: string): Database.Database {
  locker = new Database(dbFile, { fileMustExist: true });
  locker.exec('BEGIN IMMEDIATE');
  return locker;
}

/** Lets `ms` pass with the event loop free: the length of the scenario, not a wait for a result. */
const pass = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('while another process holds the write lock, other clients are served at once, a waiting msg fails with UNAVAILABLE after about 5 s, and messages after the release are delivered without a restart', async () => {
  server = await startTestServer([], dir);
  const client = newClient(server.address);
  const ann = new CustomerStream(client, 'ann');
  const annSession = await ann.init();
  const agent = new AgentStream(client, 'agent-a');
  await agent.accept(annSession.sessionId);
  ann.send('before');
  expect(describeAgentResponse(await agent.next())).toBe('customer: before');
  const joe = new CustomerStream(client, 'joe');
  const joeSession = await joe.init();
  joe.end();
  expect(await joe.endCode()).toBe(status.OK);

  const lock = holdWriteLock(server.dbFile);
  const loop = (loopWatch = watchEventLoop());
  const sentAt = performance.now();
  ann.send('while locked');
  // Another client's read-only request (a resume, on its own connection) is answered meanwhile.
  const joeAgain = new CustomerStream(newClient(server.address), 'joe');
  const resumeAt = performance.now();
  expect((await joeAgain.init(joeSession.sessionId)).sessionId).toBe(joeSession.sessionId);
  expect(performance.now() - resumeAt).toBeLessThan(500);

  const ended = await ann.ended(15_000);
  const waited = performance.now() - sentAt;
  expect({ code: status[ended.code], details: ended.details }).toEqual({ code: 'UNAVAILABLE', details: expect.stringContaining('locked') });
  expect(waited).toBeGreaterThan(4500);
  expect(waited).toBeLessThan(8000);
  expect(loop.longestStall()).toBeLessThan(200);

  lock.exec('COMMIT');
  const annAgain = new CustomerStream(client, 'ann');
  expect((await annAgain.init(annSession.sessionId)).history.map(entryText)).toEqual(['customer: before']); // nothing half-written
  annAgain.send('after');
  expect(describeAgentResponse(await agent.next())).toBe('customer: after');
  expect(agent.unread()).toEqual([]);
}, 40_000);

test('200 writes waiting on the lock do not block the event loop, and all commit once it is released', async () => {
  server = await startTestServer([], dir);
  // 4 connections: a connection takes at most 100 streams.
  const connections = Array.from({ length: 4 }, () => newClient(server!.address));
  const customers = Array.from({ length: 200 }, (_, i) => new CustomerStream(connections[i % 4]!, `customer-${i}`));
  await Promise.all(customers.map((customer) => customer.init()));

  const lock = holdWriteLock(server.dbFile);
  const entries = () => lock.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM entries').get()!.n;
  const loop = (loopWatch = watchEventLoop());
  for (const customer of customers) customer.send('queued');
  await pass(1500);
  expect(loop.longestStall()).toBeLessThan(200);
  expect(entries()).toBe(0);
  lock.exec('COMMIT');
  await waitFor(() => entries() === 200, 10_000, 'the 200 entries to be committed');
  expect(customers.filter((customer) => customer.status !== undefined)).toEqual([]); // none failed
}, 60_000);

test('start-up waits for a lock held by another process without blocking, and starts once it is released', async () => {
  server = await startTestServer([], dir);
  const lock = holdWriteLock(server.dbFile);
  const loop = (loopWatch = watchEventLoop());
  let released = false;
  await server.restart(async () => {
    // Released a second after start-up begins; until then the requeue (a write) must wait.
    setTimeout(() => {
      lock.exec('COMMIT');
      released = true;
    }, 1000);
  });
  expect(released).toBe(true);
  expect(loop.longestStall()).toBeLessThan(200);
  const customer = new CustomerStream(newClient(server.address), 'joe');
  await customer.init();
});

test('start-up gives up after 10 s of a lock held by another process: one line naming the database, exit code 1', async () => {
  const dbFile = path.join(dir, 'data', 'support.db');
  const first = spawnServer(['--port', '0', '--db', dbFile]);
  spawned.push(first);
  await waitForListening(first);
  first.child.kill('SIGTERM');
  expect(await first.exited).toBe(0);

  holdWriteLock(dbFile);
  const startedAt = performance.now();
  const second = spawnServer(['--port', '0', '--db', dbFile]);
  spawned.push(second);
  expect(await second.exited).toBe(1);
  expect(performance.now() - startedAt).toBeGreaterThan(9000);
  const failure = logRecords(second).filter((record) => record.level === 'error');
  expect(failure).toEqual([expect.objectContaining({ msg: 'could not start', error: expect.stringContaining(dbFile) })]);
  expect(String(failure[0]!.error)).toContain('locked');
}, 40_000);

test('SIGTERM stops a server whose writes wait on the lock: the waiting stream ends with UNAVAILABLE, exit code 0 within 10 s', async () => {
  const dbFile = path.join(dir, 'data', 'support.db');
  const child = spawnServer(['--port', '0', '--db', dbFile]);
  spawned.push(child);
  const client = newClient(`127.0.0.1:${await waitForListening(child)}`);
  const customers = Array.from({ length: 3 }, (_, i) => new CustomerStream(client, `customer-${i}`));
  await Promise.all(customers.map((customer) => customer.init()));

  holdWriteLock(dbFile);
  for (const customer of customers) customer.send('waiting');
  await pass(500); // the writes are queued and waiting
  const signalledAt = performance.now();
  child.child.kill('SIGTERM');
  for (const customer of customers) expect(await customer.endCode()).toBe(status.UNAVAILABLE);
  expect(await child.exited).toBe(0);
  expect(performance.now() - signalledAt).toBeLessThan(10_000);
  expect(logRecords(child).map((record) => record.msg)).toContain('stopped');
}, 40_000);
