import { expect } from '@jest/globals';
// Issue 15, backups: `npm run backup` copies a live server's database while messages flow; a second
// server started on the copy serves every session, each history as it was at some moment of the
// backup (a prefix of the live one, holding everything delivered before the backup began).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { SupportClient } from '../gen/support';
import { AgentStream, CustomerStream, describeAgentResponse, describeHistory } from './helpers/chat-client';
import { agentTexts, ownConnection, startServerProcess } from './helpers/robustness-monitor';
import type { ServerProcess } from './helpers/server-process';
import { makeTempDir, removeTempDir } from './helpers/test-server';
import { waitFor } from './helpers/wait';

const BACKUP_ENTRY = path.resolve(__dirname, '..', 'dist', 'src', 'tools', 'backup.js');

/** Runs the built backup tool; resolves with its exit code and output. */
function runBackup(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BACKUP_ENTRY, ...args], (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}

let dir: string;
const servers: ServerProcess[] = [];
const clients: SupportClient[] = [];

beforeEach(() => {
  dir = makeTempDir('support-backup-');
});

afterEach(async () => {
  clients.splice(0).forEach((c) => c.close());
  for (const server of servers.splice(0)) {
    if (server.exitCode() === undefined) server.child.kill('SIGTERM');
    await server.exited;
  }
  removeTempDir(dir);
});

async function serve(dbFile: string): Promise<SupportClient> {
  fs.mkdirSync(path.dirname(dbFile), { recursive: true });
  const { server, address } = await startServerProcess(dbFile);
  servers.push(server);
  const client = ownConnection(address);
  clients.push(client);
  return client;
}

test('a backup taken under load opens in a second server that serves every session, with its history up to the backup', async () => {
  const live = await serve(path.join(dir, 'live', 'support.db'));
  const pairs = await Promise.all(
    Array.from({ length: 5 }, async (_, i) => {
      const customer = new CustomerStream(live, `backup-customer-${i}`);
      const { sessionId } = await customer.init();
      const agent = new AgentStream(live, `agent-backup-${i}`);
      await agent.accept(sessionId);
      return { sessionId, customer, agent };
    }),
  );
  // Each customer sends the next message as soon as its agent got the previous one, until told to stop.
  let flowing = true;
  const pumps = pairs.map(async ({ customer, agent }) => {
    for (let n = 0; flowing; n++) {
      customer.send(`message ${n}`);
      await waitFor(() => agentTexts(agent).length > n, 10_000, `message ${n} delivered`);
    }
  });
  await waitFor(() => pairs.every((p) => agentTexts(p.agent).length >= 20), 20_000, 'traffic');
  const deliveredBefore = pairs.map((p) => agentTexts(p.agent).length);

  const copy = path.join(dir, 'copy', 'support.db');
  fs.mkdirSync(path.dirname(copy));
  const backup = await runBackup(['--db', path.join(dir, 'live', 'support.db'), '--out', copy]);
  expect(backup).toMatchObject({ code: 0, stderr: '' });
  expect(backup.stdout).toMatch(/integrity_check ok/);
  const deliveredAfter = pairs.map((p) => agentTexts(p.agent).length);
  flowing = false;
  await Promise.all(pumps);
  expect(deliveredAfter.reduce((a, b) => a + b)).toBeGreaterThan(deliveredBefore.reduce((a, b) => a + b)); // it was under load

  const restored = await serve(copy);
  for (const [i, { sessionId, agent }] of pairs.entries()) {
    const liveHistory = agentTexts(agent);
    const customer = new CustomerStream(restored, `backup-customer-${i}`);
    const history = describeHistory(await customer.init(sessionId));
    expect(history.length).toBeGreaterThanOrEqual(deliveredBefore[i]!);
    expect(history).toEqual(liveHistory.slice(0, history.length));
    // Served: the session is back in the copy's queue, an agent takes it, and the chat goes on.
    const newAgent = new AgentStream(restored, `agent-restored-${i}`);
    expect((await newAgent.accept(sessionId)).history).toHaveLength(history.length);
    customer.send('after the restore');
    expect(describeAgentResponse(await newAgent.next())).toBe('customer: after the restore');
  }
});

test('the backup refuses to overwrite, and fails with a non-zero exit on a file that is not a sound database', async () => {
  const good = path.join(dir, 'good.db');
  const db = new Database(good);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (x INTEGER PRIMARY KEY, y TEXT); CREATE INDEX t_y ON t (y)');
  const insert = db.prepare('INSERT INTO t (y) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < 5000; i++) insert.run(`row ${i}`);
  })();
  db.close();
  expect((await runBackup(['--db', good, '--out', path.join(dir, 'copy.db')])).code).toBe(0);
  const again = await runBackup(['--db', good, '--out', path.join(dir, 'copy.db')]);
  expect(again).toMatchObject({ code: 1, stderr: expect.stringMatching(/exists already/) });

  // An index page overwritten by zeros: the pages copy, but the check finds the damage.
  const damaged = path.join(dir, 'damaged.db');
  fs.copyFileSync(good, damaged);
  const inspect = new Database(damaged, { readonly: true });
  const indexRoot = (inspect.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 't_y'").get() as { rootpage: number }).rootpage;
  const pageSize = inspect.pragma('page_size', { simple: true }) as number;
  inspect.close();
  const fd = fs.openSync(damaged, 'r+');
  fs.writeSync(fd, Buffer.alloc(pageSize - 100, 0xff), 0, pageSize - 100, (indexRoot - 1) * pageSize + 100);
  fs.closeSync(fd);
  const broken = await runBackup(['--db', damaged, '--out', path.join(dir, 'broken.db')]);
  expect(broken.code).toBe(1);
  expect(broken.stderr).toMatch(/backup: failed: the copy fails PRAGMA integrity_check: /);
  expect(fs.existsSync(path.join(dir, 'broken.db'))).toBe(false);

  const missing = await runBackup(['--db', good]);
  expect(missing).toMatchObject({ code: 2, stderr: 'backup: missing --out (see --help)\n' });
});
