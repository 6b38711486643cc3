import fs from 'node:fs';
import { expect } from '@jest/globals';
import path from 'node:path';
import { ExportFormat, type SupportAdminServiceClient } from '../gen/support/admin/v1/admin';
import type { SupportClient } from '../gen/support';
import { connectAdmin } from './helpers/admin-client';
import { runAdmin, startAdmin } from './helpers/admin-cli';
import { AgentStream, connect, CustomerStream } from './helpers/chat-client';
import { exportText, parseJsonLines } from './helpers/export-client';
import { makeTempDir, removeTempDir, startTestServer, type TestServer } from './helpers/test-server';
import { waitFor } from './helpers/wait';

// `npm run admin`: the admin command line as a child process against a real server, as an admin
// (output correct) and as a customer (exit 1 with the server's reason).

let server: TestServer;
let admin: SupportAdminServiceClient;
let chat: SupportClient;
let joeSession: string;
let sueSession: string;
const dir = makeTempDir('support-admin-cli-');
const as = (user: string, ...args: string[]) => runAdmin(['--server', server.address, '--user', user, ...args]);
const lines = (text: string) => text.split('\n').filter((line) => line !== '');

beforeAll(async () => {
  server = await startTestServer(['--max-joins-per-minute', '0']);
  admin = connectAdmin(server.address);
  chat = connect(server.address);
  const joe = new CustomerStream(chat, 'joe');
  joeSession = (await joe.init()).sessionId;
  const ann = new AgentStream(chat, 'agent-ann');
  await ann.accept(joeSession);
  joe.send('my card is blocked');
  await ann.next();
  ann.send('unblocked:\ntry again');
  await joe.next();
  joe.hangUp();
  await ann.next();
  joe.end();
  ann.end();
  const sue = new CustomerStream(chat, 'sue');
  sueSession = (await sue.init()).sessionId;
  sue.end();
});
afterAll(async () => {
  admin.close();
  chat.close();
  await server.stop();
  removeTempDir(dir);
});

test('queue: the awaiting count with its oldest wait, the attended count, the agents attached', async () => {
  const run = await as('admin-ops', 'queue');
  expect(run.code).toBe(0);
  expect(lines(run.stdout)).toEqual([
    expect.stringMatching(/^awaiting {9}1, the oldest since \d{4}-\d\d-\d\dT[\d:.]+Z \(\d+s\)$/),
    'attended         0',
    'agents attached  0',
  ]);
});

test('sessions: a table, newest first; filtered by state and customer; cut at --limit with a note', async () => {
  const all = await as('admin-ops', 'sessions');
  expect(all.code).toBe(0);
  const [heading, ...rows] = lines(all.stdout);
  expect(heading).toMatch(/^SESSION +STATE +CUSTOMER +CREATED +ENDED +ENTRIES$/);
  expect(rows.map((row) => row.split(/ +/).slice(0, 3))).toEqual([
    [sueSession, 'awaiting', 'sue'],
    [joeSession, 'ended', 'joe'],
  ]);
  expect(rows[1]!.split(/ +/).at(-1)).toBe('2');
  const awaiting = await as('admin-ops', 'sessions', '--state', 'awaiting');
  expect(lines(awaiting.stdout).slice(1).map((row) => row.split(/ +/)[0])).toEqual([sueSession]);
  const joes = await as('admin-ops', '--customer', 'joe', 'sessions');
  expect(lines(joes.stdout).slice(1).map((row) => row.split(/ +/)[0])).toEqual([joeSession]);
  const one = await as('admin-ops', 'sessions', '--limit', '1');
  expect(lines(one.stdout)).toHaveLength(2);
  expect(one.stderr).toBe('* more sessions than --limit 1: raise it, or narrow the filters\n');
});

test('session ID: what it is, the agents who took part, and its history', async () => {
  const run = await as('admin-ops', 'session', joeSession);
  expect(run.code).toBe(0);
  const printed = run.stdout.split('\n');
  expect(printed.slice(0, 7)).toEqual([
    `session   ${joeSession}`,
    'customer  joe',
    'state     ended',
    expect.stringMatching(/^created {3}\d{4}-.*Z$/),
    expect.stringMatching(/^ended {5}\d{4}-.*Z$/),
    'agents    agent-ann',
    'entries   2',
  ]);
  expect(printed.slice(8).map((line) => line.replace(/^\S+Z {2}/, ''))).toEqual(['customer joe: my card is blocked', 'agent agent-ann: unblocked:', '    try again', '']);
});

test('export ID: JSON Lines on standard output, entry by entry as the service exports it; a range as text to a file, byte for byte; a failed one leaves no file', async () => {
  const run = await as('admin-ops', 'export', joeSession);
  expect(run.code).toBe(0);
  const viaRpc = await exportText(admin, { $case: 'sessionId', value: joeSession });
  expect(run.stdout).toBe(viaRpc.text);
  expect(parseJsonLines(run.stdout).map(({ seq, author_role, author_id, text }) => [seq, author_role, author_id, text])).toEqual([
    [1, 'customer', 'joe', 'my card is blocked'],
    [2, 'agent', 'agent-ann', 'unblocked:\ntry again'],
  ]);
  const file = path.join(dir, 'transcripts.txt');
  const toFile = await as('admin-ops', 'export', '--created-from', '2000-01-01T00:00:00Z', '--format', 'text', '--out', file);
  expect(toFile).toMatchObject({ code: 0, stdout: '' });
  const range = await exportText(admin, { $case: 'created', value: { start: new Date('2000-01-01T00:00:00Z'), end: undefined } }, ExportFormat.EXPORT_FORMAT_PLAIN_TEXT);
  expect(fs.readFileSync(file, 'utf8')).toBe(range.text);
  expect(toFile.stderr).toBe(`* exported ${Buffer.byteLength(range.text)} bytes to ${file}\n`);
  expect(range.text).toContain(`== Session ${sueSession}, customer sue`);
  // A failed export leaves no file that could pass for a whole one.
  const missing = path.join(dir, 'missing.jsonl');
  expect(await as('admin-ops', 'export', 'no-such-session', '--out', missing)).toEqual({ code: 1, stdout: '', stderr: 'admin: NOT_FOUND: no such session\n' });
  expect(fs.existsSync(missing)).toBe(false);
});

test('watch: one line per change of the queue until Ctrl-C, which ends it with exit 0', async () => {
  const watch = startAdmin(['--server', server.address, '--user', 'admin-ops', 'watch']);
  try {
    await waitFor(() => watch.stderr.some((line) => line.startsWith('* watching the queue on ')), 20_000, 'the watch to start');
    expect(watch.lines).toEqual([]);
    const bob = new CustomerStream(chat, 'bob');
    const { sessionId } = await bob.init();
    const ann = new AgentStream(chat, 'agent-ann');
    await ann.accept(sessionId);
    bob.hangUp();
    await ann.next();
    await watch.waitForLine(/ ended /);
    expect(watch.lines.map((line) => line.replace(/^\S+Z {2}/, ''))).toEqual([`waiting  ${sessionId}  customer bob`, `taken    ${sessionId}  customer bob`, `ended    ${sessionId}  customer bob`]);
    bob.end();
    ann.end();
    watch.child.kill('SIGINT');
    expect(await watch.exited).toBe(0);
  } finally {
    watch.child.kill();
  }
});

test('end ID, then erase-customer ID: what went; the session is ended, then gone', async () => {
  const ended = await as('admin-ops', 'end', sueSession);
  expect(ended).toMatchObject({ code: 0, stdout: `session ${sueSession} ended\n` });
  expect((await as('admin-ops', 'session', sueSession)).stdout).toContain('state     ended');
  const again = await as('admin-ops', 'end', sueSession);
  expect(again).toMatchObject({ code: 1, stderr: 'admin: FAILED_PRECONDITION: the session has ended\n' });
  const erased = await as('admin-ops', 'erase-customer', 'joe');
  expect(erased).toMatchObject({ code: 0, stdout: 'customer joe erased: 1 session(s), 2 entries\n' });
  expect(await as('admin-ops', 'session', joeSession)).toMatchObject({ code: 1, stderr: 'admin: NOT_FOUND: no such session\n' });
});

const REFUSAL = 'admin: PERMISSION_DENIED: the admin service is for admins; ids of admins start with "admin"\n';

test.each([['sessions'], ['session', 'x'], ['queue'], ['watch'], ['end', 'x'], ['erase-customer', 'x'], ['export', 'x']])(
  'as a customer, %s exits 1 with the reason the server gave',
  async (...command) => {
    expect(await as('joe', ...command)).toEqual({ code: 1, stdout: '', stderr: REFUSAL });
  },
);

test('a bad command line exits 2 with one line saying what is wrong; a server that does not answer, 1', async () => {
  expect(await runAdmin(['--user', 'admin-ops'])).toEqual({ code: 2, stdout: '', stderr: 'admin: missing command (see --help)\n' });
  expect(await runAdmin(['--user', 'admin-ops', 'session'])).toEqual({ code: 2, stdout: '', stderr: 'admin: usage: session ID\n' });
  expect((await runAdmin(['--user', 'admin-ops', 'queue', '--state', 'ended'])).stderr).toBe('admin: unknown flag "--state" (see --help)\n');
  expect((await runAdmin(['--user', 'admin-ops', 'sessions', '--created-after', 'yesterday'])).stderr).toMatch(/^admin: invalid value "yesterday" for --created-after: expected a time such as 2026-01-31T09:00:00Z\n$/);
  expect((await runAdmin(['--server', '127.0.0.1:1', 'queue'])).code).toBe(2); // no --user
  const unreachable = await runAdmin(['--server', '127.0.0.1:1', '--user', 'admin-ops', 'queue']);
  expect(unreachable).toMatchObject({ code: 1, stderr: expect.stringMatching(/^admin: UNAVAILABLE: /) });
});
