// One server per database: a second one (another process, or another server in this process)
// is refused before it touches the database; a killed server leaves no lock behind.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { AgentStream, connect, CustomerStream, describeAgentResponse } from './helpers/chat-client';
import { entryText } from './helpers/ordering-helpers';
import { collectLines, SERVER_ENTRY, spawnServer, waitForListening, type ServerProcess } from './helpers/server-process';
import { makeTempDir, removeTempDir, startTestServer, type TestServer } from './helpers/test-server';
import { waitFor } from './helpers/wait';
import type { SupportClient } from '../gen/support';
import { DatabaseInUseError } from '../src/storage/server-lock';

let dir: string;
let dbFile: string;
let spawned: ServerProcess[] = [];
let clients: SupportClient[] = [];
let inProcess: TestServer | undefined;

beforeEach(() => {
  dir = makeTempDir();
  dbFile = path.join(dir, 'data', 'support.db');
});

afterEach(async () => {
  for (const client of clients) client.close();
  clients = [];
  await inProcess?.stop(); // removes the folder
  inProcess = undefined;
  for (const child of spawned) if (child.exitCode() === undefined) child.child.kill('SIGKILL');
  await Promise.all(spawned.map((child) => child.exited));
  spawned = [];
  removeTempDir(dir);
});

function start(): ServerProcess {
  const child = spawnServer(['--port', '0', '--db', dbFile]);
  spawned.push(child);
  return child;
}

function newClient(port: number): SupportClient {
  const client = connect(`127.0.0.1:${port}`, { ownConnection: true });
  clients.push(client);
  return client;
}

/** Bytes and modification time of the database and its WAL. */
function databaseFiles(): Record<string, { mtimeMs: number; bytes: string }> {
  const state: Record<string, { mtimeMs: number; bytes: string }> = {};
  for (const file of [dbFile, `${dbFile}-wal`]) {
    state[path.basename(file)] = { mtimeMs: fs.statSync(file).mtimeMs, bytes: fs.readFileSync(file).toString('base64') };
  }
  return state;
}

test('a second server on the same --db exits 2 with one line naming the file and the first server, and touches nothing; the first keeps serving', async () => {
  const first = start();
  const client = newClient(await waitForListening(first));
  const customer = new CustomerStream(client, 'joe');
  const session = await customer.init();
  const agent = new AgentStream(client, 'agent-a');
  await agent.accept(session.sessionId);
  customer.send('before');
  expect(describeAgentResponse(await agent.next())).toBe('customer: before');
  const before = databaseFiles();

  const second = start();
  await waitFor(() => second.exitCode() !== undefined, 10_000, 'the second server to exit');
  expect(second.exitCode()).toBe(2);
  expect(second.stderr).toEqual([expect.stringContaining(`the database ${dbFile} is in use by another server (pid ${first.child.pid} on `)]);
  expect(second.stdout).toEqual([]);
  expect(databaseFiles()).toEqual(before);

  customer.send('after');
  expect(describeAgentResponse(await agent.next())).toBe('customer: after');
});

test('after kill -9 of the server, a new one starts at once on the same database and serves the old sessions', async () => {
  const first = start();
  const client = newClient(await waitForListening(first));
  const customer = new CustomerStream(client, 'joe');
  const session = await customer.init();
  const agent = new AgentStream(client, 'agent-a');
  await agent.accept(session.sessionId);
  customer.send('kept');
  expect(describeAgentResponse(await agent.next())).toBe('customer: kept');

  first.child.kill('SIGKILL');
  expect(await first.exited).toBe('SIGKILL');
  const next = start();
  const resumed = new CustomerStream(newClient(await waitForListening(next)), 'joe');
  expect((await resumed.init(session.sessionId)).history.map(entryText)).toEqual(['customer: kept']);
});

test('two in-process servers on one folder: the second is refused, naming this process, and the first keeps serving', async () => {
  inProcess = await startTestServer([], dir);
  // (Were it to start, it is stopped at once, so that a failing test leaves no server running.)
  const refusal = await startTestServer([], dir).then(async (second) => second.stop().then(() => 'it started'), (err: unknown) => err);
  expect(refusal).toBeInstanceOf(DatabaseInUseError);
  expect((refusal as Error).message).toContain(`the database ${inProcess.dbFile} is in use by another server (pid ${process.pid} on `);
  // The refused attempt closed its own connection to the lock file without dropping this process's lock.
  expect(await tryLock(inProcess.dbFile)).toEqual({ outcome: 'refused', holderPid: process.pid });
  const client = connect(inProcess.address);
  clients.push(client);
  await new CustomerStream(client, 'joe').init();
});

test('the lock file beside the database is readable by the server user only, and is let go at shutdown', async () => {
  const umask = process.umask(0o277); // a umask that would leave it read-only: the mode must come from the code
  try {
    inProcess = await startTestServer([], dir);
  } finally {
    process.umask(umask);
  }
  const { dbFile: file } = inProcess;
  expect(fs.statSync(`${file}.lock`).mode & 0o777).toBe(0o600);
  expect(await tryLock(file)).toMatchObject({ outcome: 'refused' });
  await inProcess.restart(async () => {
    expect(await tryLock(file)).toMatchObject({ outcome: 'held' });
  });
});

test('servers started at the same moment: exactly one holds the database, and every other names it', async () => {
  fs.mkdirSync(path.dirname(dbFile), { recursive: true });
  for (let round = 0; round < 3; round++) {
    const attempts = await Promise.all(Array.from({ length: 4 }, () => tryLock(dbFile, 800)));
    const holders = attempts.filter((a) => a.outcome === 'held');
    expect(holders).toHaveLength(1);
    const refusedNames = attempts.filter((a) => a.outcome === 'refused').map((a) => a.holderPid);
    expect(refusedNames).toEqual([holders[0]!.pid, holders[0]!.pid, holders[0]!.pid]);
  }
});

type LockAttempt = { outcome: 'held' | 'refused'; holderPid: number | undefined; pid?: number | undefined };

/** Takes the server lock of `file` in a new process, which holds it for `holdMs` if it gets it. */
async function tryLock(file: string, holdMs = 0): Promise<LockAttempt> {
  const lockModule = path.join(path.dirname(SERVER_ENTRY), 'storage', 'server-lock.js');
  const script = `require(${JSON.stringify(lockModule)}).acquireServerLock(${JSON.stringify(file)}).then(
    (lock) => { console.log(JSON.stringify({ outcome: 'held' })); setTimeout(() => lock.release(), ${holdMs}); },
    (err) => console.log(JSON.stringify({ outcome: 'refused', holderPid: err.holder && err.holder.pid })))`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  collectLines(child.stdout, lines);
  await waitFor(() => lines.length > 0 || child.exitCode !== null, 10_000, 'the lock attempt');
  if (lines.length === 0) throw new Error(`the lock attempt exited with ${child.exitCode}`);
  const attempt = JSON.parse(lines[0]!) as LockAttempt;
  await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.on('exit', resolve)));
  return attempt.outcome === 'held' ? { ...attempt, holderPid: undefined, pid: child.pid } : attempt;
}
