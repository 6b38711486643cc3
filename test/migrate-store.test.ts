import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Session, SupportClient } from '../gen/support';
import { parseConfig } from '../src/config/config';
import { encodedHistoryEntrySize } from '../src/domain/entry';
import { createJsonLogger } from '../src/log/logger';
import { startServer, type RunningServer } from '../src/server/server';
import { openDatabase } from '../src/storage/open-database';
import { connectionConfig } from '../src/storage/postgres/postgres-connection';
import { fromStoredText } from '../src/storage/postgres/stored-text';
import { SqliteSessionStore } from '../src/storage/sqlite-session-store';
import { AgentStream, connect, CustomerStream } from './helpers/chat-client';
import { describeWithPostgres, freshSchema, POSTGRES_URL, type TestSchema } from './helpers/postgres';
import { makeTempDir, removeTempDir } from './helpers/test-server';
import { waitFor } from './helpers/wait';

// SPEC §8 "Moving a deployment": `npm run migrate-store` copies a stopped SQLite server's
// database into an empty PostgreSQL store, ids, order, dates and states unchanged. The built tool
// runs as a child process (`npm test` builds first), on databases written by the real server.

const TOOL = path.resolve(__dirname, '..', 'dist', 'src', 'tools', 'migrate-store.js');
/** A password the tests' trust-authenticated PostgreSQL ignores, and that no output may show. */
const PASSWORD = 'not-shown-4f9c2e';
/** The servers' limits on both sides of the move: a history is full at 2000 encoded bytes. */
const LIMITS = ['--max-history-bytes', '2000', '--max-messages-per-second', '0'];
const FILLER = 'x'.repeat(300);

let dir: string;
let schema: TestSchema;
const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(async () => {
  dir = makeTempDir('support-migrate-');
  schema = await freshSchema();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await schema.drop();
  removeTempDir(dir);
});

describeWithPostgres('npm run migrate-store', () => {
  test('moves sessions in every state entry by entry, and a server on PostgreSQL serves them: histories, states, the queue order, the history limit', async () => {
    const dbFile = path.join(dir, 'support.db');
    const ids = await writeSessionsInEveryState(dbFile);
    const source = readSqlite(dbFile);
    const stateOf = (s: SessionColumns) => (s.state === 'ended' ? 'ended' : s.awaiting_since === null ? 'attended' : 'awaiting');
    expect(source.sessions.map((s) => [s.id, stateOf(s)])).toEqual([[ids.A, 'awaiting'], [ids.B, 'attended'], [ids.C, 'ended'], [ids.D, 'awaiting'], [ids.E, 'awaiting'], [ids.F, 'attended']]);
    expect(source.entries.some((e) => e.text.includes('\u0000'))).toBe(true);

    const run = await runTool(['--from', `sqlite:${dbFile}`, '--to', urlWithPassword(), '--pg-schema', schema.schema, '--batch-size', '2']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`done: moved 6 sessions and ${source.entries.length} entries in`);
    expect(run.stdout).toMatch(/entries: \d+ copied/);
    expect(run.stdout).not.toContain(PASSWORD);

    // Row by row: every column as it was, but the attended sessions (B, F), which now await an
    // agent behind those that did, in order of creation, as after a restart.
    const target = await readPostgres();
    const attended = new Set([ids.B, ids.F]);
    const requeuedAt = target.sessions.find((s) => s.id === ids.B)!.awaiting_since!;
    expect(target.sessions).toEqual(source.sessions.map((s) => (attended.has(s.id) ? { ...s, awaiting_since: requeuedAt } : s)));
    expect(target.sessions.find((s) => s.id === ids.F)!.awaiting_since).toBe(requeuedAt);
    expect(requeuedAt).toBeGreaterThan(Math.max(...source.sessions.map((s) => s.awaiting_since ?? 0)));
    expect(target.entries).toEqual(source.entries.map((e) => ({ ...e, origin: 'migrated' })));
    expect(source.participants.length).toBeGreaterThanOrEqual(2); // B's two agents at least
    expect(target.participants).toEqual(source.participants);
    expect(target.streamRows).toBe(0);

    const server = await startInProcess(['--store', schema.url, '--pg-schema', schema.schema]);
    const expectedHistory = (id: string) => historyRows(source, id);
    // Customers resume and see their whole history, in order, with the same dates.
    const customerB = new CustomerStream(server.client, 'cust-b');
    expect(historyOf(await customerB.init(ids.B))).toEqual(expectedHistory(ids.B));
    const customerF = new CustomerStream(server.client, 'cust-f');
    expect(historyOf(await customerF.init(ids.F))).toEqual(expectedHistory(ids.F));
    customerF.send(FILLER); // F was full on SQLite: its history's size moved with it
    expect(await customerF.endCode()).toBe(status.RESOURCE_EXHAUSTED);
    const customerC = new CustomerStream(server.client, 'cust-c');
    customerC.sendInit(ids.C);
    expect(await customerC.endCode()).toBe(status.FAILED_PRECONDITION); // still ended
    const customerA = new CustomerStream(server.client, 'cust-a');
    await customerA.init(ids.A);
    customerA.send('after the move');
    const G = (await new CustomerStream(server.client, 'cust-g').init()).sessionId; // a new session, after the moved ones

    // The queue: A, E (awaiting since creation), D (its agent left after E was created), then B
    // and F (attended when the server stopped), then the new G.
    const accepted: Session[] = [];
    for (let i = 0; i < 6; i++) accepted.push(await new AgentStream(server.client, `agent-${i}`).accept());
    expect(accepted.map((s) => s.sessionId)).toEqual([ids.A, ids.E, ids.D, ids.B, ids.F, G]);
    for (const session of accepted.slice(1, 5)) expect(historyOf(session)).toEqual(expectedHistory(session.sessionId));
    const historyA = historyOf(accepted[0]!);
    expect(historyA.slice(0, -1)).toEqual(expectedHistory(ids.A));
    expect(historyA.at(-1)).toMatchObject({ seq: expectedHistory(ids.A).length + 1, author: 'customer', text: 'after the move' });
    const latecomer = new AgentStream(server.client, 'agent-late');
    latecomer.sendAccept();
    expect(await latecomer.endCode()).toBe(status.FAILED_PRECONDITION); // nothing else awaits
  });

  test('refuses a target that holds sessions, and writes nothing to it (exit 1)', async () => {
    const first = await writeSmallDatabase(path.join(dir, 'first.db'), 'cust-first');
    // Its one session has key 2: it would not collide with the target's (key 1) if copied.
    const second = await writeSmallDatabase(path.join(dir, 'second.db'), 'cust-gone', 'cust-second');
    const db = new Database(second);
    db.prepare("DELETE FROM entries WHERE session_pk = (SELECT pk FROM sessions WHERE customer = 'cust-gone')").run();
    db.prepare("DELETE FROM sessions WHERE customer = 'cust-gone'").run();
    db.close();
    expect((await runTool(moveArgs(first))).code).toBe(0);
    const before = await readPostgres();

    const run = await runTool(moveArgs(second));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^migrate-store: refused: the target schema ${schema.schema} is not empty \\(it holds 1 sessions\\)`));
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(await readPostgres()).toEqual(before);
  });

  test('a copy that fails midway leaves the target without any session (one transaction), and can be run again', async () => {
    const dbFile = await writeSmallDatabase(path.join(dir, 'support.db'), 'cust-a', 'cust-b');
    // An entry of no session, read last (entries are read by session key): PostgreSQL's foreign
    // key refuses it after every session and the other entries were written, batch by batch.
    const db = new Database(dbFile);
    db.pragma('foreign_keys = OFF');
    db.prepare('INSERT INTO entries (session_pk, seq, date_ms, agent, text) VALUES (999, 1, 0, NULL, ?)').run('orphan');
    db.close();

    const run = await runTool([...moveArgs(dbFile), '--batch-size', '1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^migrate-store: failed: copying entries, after 4 of 5: .*foreign key.*; nothing was moved/);
    expect(await readPostgres()).toEqual({ sessions: [], entries: [], participants: [], streamRows: 0 });

    const fixed = new Database(dbFile);
    fixed.prepare('DELETE FROM entries WHERE session_pk = 999').run();
    fixed.close();
    expect((await runTool(moveArgs(dbFile))).code).toBe(0);
    expect((await readPostgres()).entries).toHaveLength(4);
  });

  test('refuses a SQLite database that a running server holds (exit 1), before touching the target', async () => {
    const dbFile = await writeSmallDatabase(path.join(dir, 'support.db'), 'cust-a');
    await startInProcess(['--db', dbFile]);

    const run = await runTool(moveArgs(dbFile));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^migrate-store: refused: the database .*support\\.db is in use by a running server \\(pid ${process.pid} on `));
    expect(await schemaExists()).toBe(false);
  });

  test("refuses a SQLite file that is not a support server's database (exit 1), and adds nothing to it or beside it", async () => {
    const other = path.join(dir, 'other-app.db');
    const db = new Database(other);
    db.exec('CREATE TABLE notes (body TEXT)');
    db.close();

    const run = await runTool(moveArgs(other));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^migrate-store: refused: .*other-app\.db is not a support server's database/);
    expect(withSqlite(other, (d) => d.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all())).toEqual([{ name: 'notes' }]);
    expect(fs.readdirSync(dir)).toEqual(['other-app.db']);
  });

  test('bad flags: one line naming the flag, exit 2, nothing touched; --help prints the usage', async () => {
    const dbFile = await writeSmallDatabase(path.join(dir, 'support.db'), 'cust-a');
    const missing = path.join(dir, 'missing', 'support.db');
    const url = urlWithPassword();
    const cases: [string[], RegExp][] = [
      [[], /^missing --from /],
      [['--from', `sqlite:${dbFile}`], /^missing --to /],
      [['--from', dbFile, '--to', url], /^invalid value ".*" for --from: expected sqlite:PATH$/],
      [['--from', `sqlite:${missing}`, '--to', url], /^--from: no database file at /],
      [['--from', `sqlite:${dbFile}`, '--to', `mysql://someone:${PASSWORD}@127.0.0.1/db`], /^invalid value for --to: expected a postgres/],
      [['--from', `sqlite:${dbFile}`, '--to', url, '--pg-schema', 'no-dashes'], /^invalid value "no-dashes" for --pg-schema/],
      [['--from', `sqlite:${dbFile}`, '--to', url, '--batch-size', '0'], /^invalid value "0" for --batch-size/],
      [['--from', `sqlite:${dbFile}`, '--to', url, '--frm', 'x'], /^unknown flag "--frm"/],
      [['--from', `sqlite:${dbFile}`, '--to', url, '--to', url], /^flag --to given more than once$/],
      [['--from', `sqlite:${dbFile}`, '--to'], /^flag --to needs a value$/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runTool(args)));
    runs.forEach((run, i) => {
      expect({ args: cases[i]![0], code: run.code, stdout: run.stdout }).toEqual({ args: cases[i]![0], code: 2, stdout: '' });
      const lines = run.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]!.replace(/^migrate-store: /, '')).toMatch(cases[i]![1]);
      expect(run.stderr).not.toContain(PASSWORD);
    });
    expect(fs.existsSync(path.dirname(missing))).toBe(false);
    expect(await schemaExists()).toBe(false);

    const help = await runTool(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run migrate-store -- --from sqlite:PATH --to postgres:/);
  });
});

type ToolRun = Readonly<{ code: number | null; stdout: string; stderr: string }>;

/** Runs the built tool to its end. */
function runTool(args: string[]): Promise<ToolRun> {
  const pgVariables = Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('PG')));
  const child = spawn(process.execPath, [TOOL, ...args], { env: { PATH: process.env.PATH ?? '', ...pgVariables }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function moveArgs(dbFile: string): string[] {
  return ['--from', `sqlite:${dbFile}`, '--to', urlWithPassword(), '--pg-schema', schema.schema];
}

/** The test PostgreSQL's URL with a user and a password in it (trust authentication ignores it). */
function urlWithPassword(): string {
  const url = new URL(POSTGRES_URL);
  if (url.password) return url.toString();
  url.username ||= process.env.PGUSER || process.env.USER || os.userInfo().username;
  url.password = PASSWORD;
  return url.toString();
}

/** A server in this process (stopped after the test), and a client of it. */
async function startInProcess(storeFlags: string[]): Promise<{ client: SupportClient; running: RunningServer }> {
  const running = await startServer(parseConfig(['--port', '0', ...storeFlags, ...LIMITS], {}), createJsonLogger(() => {}));
  const client = connect(`127.0.0.1:${running.port}`);
  cleanups.push(() => running.shutdown(), () => client.close());
  return { client, running };
}

/**
 * Through a real SQLite server: sessions in every state, created in the order A to F.
 * A: awaiting since its creation, the customer's entries. B: two agents and the customer, texts
 * with U+0000 and non-ASCII, attended when the server stops. C: ended by the customer. D: its
 * agent left after E was created, so it awaits after E. E: awaiting, no entry. F: attended, its
 * history full (the next entry would pass --max-history-bytes).
 */
async function writeSessionsInEveryState(dbFile: string): Promise<Record<'A' | 'B' | 'C' | 'D' | 'E' | 'F', string>> {
  const { client, running } = await startInProcess(['--db', dbFile]);
  const entriesCommitted = (n: number) => waitFor(() => countEntries(dbFile) === n, 10_000, `${n} entries committed`);
  const customer = (user: string) => new CustomerStream(client, user);
  const agent = (user: string) => new AgentStream(client, user);

  const a = customer('cust-a');
  const A = (await a.init()).sessionId;
  a.send('hello, anyone?');
  a.send('my card was declined');

  const b = customer('cust-b');
  const B = (await b.init()).sessionId;
  const [b1, b2] = [agent('agent-b1'), agent('agent-b2')];
  await b1.accept(B);
  await b2.accept(B);
  b.send('Grüße aus Köln, 東京 ☕ 𝄞');
  await b1.take(1);
  b.send('a NUL \u0000 inside');
  await b2.take(2);
  b1.send('Здравствуйте!');
  await b2.take(1);
  b2.send('done\u0000');
  await b.take(2);

  const c = customer('cust-c');
  const C = (await c.init()).sessionId;
  const agentC = agent('agent-c');
  await agentC.accept(C);
  agentC.send('all fixed');
  await c.take(1);
  c.send('thanks');
  c.hangUp();
  expect(await agentC.take(2).then((r) => r.map((x) => x.resp?.$case))).toEqual(['msg', 'sessionEnded']);

  const d = customer('cust-d');
  const D = (await d.init()).sessionId;
  const agentD = agent('agent-d');
  await agentD.accept(D);
  agentD.send('one moment please');
  await d.take(1);
  const E = (await customer('cust-e').init()).sessionId;
  agentD.leave();

  const f = customer('cust-f');
  const F = (await f.init()).sessionId;
  const agentF = agent('agent-f');
  await agentF.accept(F);
  // An entry of FILLER takes 310 to 330 bytes of the history: the seventh would pass 2000.
  for (let i = 0; i < 10; i++) f.send(FILLER);
  expect(await f.endCode()).toBe(status.RESOURCE_EXHAUSTED);
  await agentF.take(6);

  await entriesCommitted(2 + 4 + 2 + 1 + 6);
  await waitFor(() => awaitingSince(dbFile, D) !== null, 10_000, 'D awaiting again');
  await running.shutdown(); // B and F are attended when it stops
  return { A, B, C, D, E, F };
}

/** A database of one session per customer, each with two entries, written through the real store. */
async function writeSmallDatabase(dbFile: string, ...customers: string[]): Promise<string> {
  const { db } = openDatabase({ file: dbFile, sync: 'normal' });
  const store = new SqliteSessionStore(db);
  const limits = { maxBytes: 2_000_000, maxEntries: 100 };
  for (const customer of customers) {
    const id = `session-of-${customer}`;
    await store.createSession(id, customer, new Date(), 10);
    for (const text of ['hello', 'anyone?']) {
      await store.appendEntry(id, { author: { kind: 'customer' }, text, origin: 'test', encodedSize: (date) => encodedHistoryEntrySize(date, { kind: 'customer' }, text) }, new Date(), limits);
    }
  }
  store.close();
  return dbFile;
}

type SessionColumns = {
  pk: number;
  id: string;
  customer: string;
  state: string;
  created_at: number;
  ended_at: number | null;
  awaiting_since: number | null;
  last_seq: number;
  last_entry_at: number | null;
  history_bytes: number;
  last_activity_at: number;
};
type EntryColumns = { session_pk: number; seq: number; date_ms: number; agent: string | null; text: string };
const SESSION_COLUMNS = 'pk, id, customer, state, created_at, ended_at, awaiting_since, last_seq, last_entry_at, history_bytes, last_activity_at';
const ENTRY_COLUMNS = 'session_pk, seq, date_ms, agent, text';
type ParticipantColumns = { session_pk: number; agent: string; first_attached_at: number };
const PARTICIPANT_COLUMNS = 'session_pk, agent, first_attached_at';

function withSqlite<T>(dbFile: string, read: (db: Database.Database) => T): T {
  const db = new Database(dbFile, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

function readSqlite(dbFile: string): { sessions: SessionColumns[]; entries: EntryColumns[]; participants: ParticipantColumns[] } {
  return withSqlite(dbFile, (db) => ({
    sessions: db.prepare<[], SessionColumns>(`SELECT ${SESSION_COLUMNS} FROM sessions ORDER BY pk`).all(),
    entries: db.prepare<[], EntryColumns>(`SELECT ${ENTRY_COLUMNS} FROM entries ORDER BY session_pk, seq`).all(),
    participants: db.prepare<[], ParticipantColumns>(`SELECT ${PARTICIPANT_COLUMNS} FROM participants ORDER BY session_pk, agent`).all(),
  }));
}

function countEntries(dbFile: string): number {
  return withSqlite(dbFile, (db) => (db.prepare('SELECT count(*) AS n FROM entries').get() as { n: number }).n);
}

function awaitingSince(dbFile: string, id: string): number | null {
  return withSqlite(dbFile, (db) => (db.prepare('SELECT awaiting_since AS t FROM sessions WHERE id = ?').get(id) as { t: number | null }).t);
}

/** The target's rows, numbers as numbers and texts as they were written; and its count of attendance and instance rows. */
async function readPostgres(): Promise<{ sessions: SessionColumns[]; entries: (EntryColumns & { origin: string })[]; participants: ParticipantColumns[]; streamRows: number }> {
  const client = new pg.Client(connectionConfig({ url: schema.url, schema: schema.schema }));
  await client.connect();
  try {
    const numbers = <T extends Record<string, unknown>>(row: T, keep: string[]) =>
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, keep.includes(k) || v === null ? v : Number(v)]));
    const sessions = await client.query(`SELECT ${SESSION_COLUMNS} FROM sessions ORDER BY pk`);
    const entries = await client.query(`SELECT ${ENTRY_COLUMNS}, origin FROM entries ORDER BY session_pk, seq`);
    const participants = await client.query(`SELECT ${PARTICIPANT_COLUMNS} FROM participants ORDER BY session_pk, agent`);
    const streams = await client.query<{ n: string }>('SELECT (SELECT count(*) FROM attendance) + (SELECT count(*) FROM instances) AS n');
    return {
      sessions: sessions.rows.map((r) => numbers(r, ['id', 'customer', 'state']) as SessionColumns),
      entries: entries.rows.map((r) => ({ ...(numbers(r, ['agent', 'text', 'origin']) as EntryColumns & { origin: string }), text: fromStoredText(r.text as string) })),
      participants: participants.rows.map((r) => numbers(r, ['agent']) as ParticipantColumns),
      streamRows: Number(streams.rows[0]!.n),
    };
  } finally {
    await client.end();
  }
}

async function schemaExists(): Promise<boolean> {
  const client = new pg.Client(connectionConfig({ url: schema.url, schema: 'public' }));
  await client.connect();
  try {
    return (await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema.schema])).rowCount === 1;
  } finally {
    await client.end();
  }
}

type HistoryRow = Readonly<{ seq: number; date: number; author: string; text: string }>;

/** A session's history as the server sends it (seq is the position). */
function historyOf(session: Session): HistoryRow[] {
  return session.history.map((entry, i) => ({
    seq: i + 1,
    date: entry.date!.getTime(),
    author: entry.entry?.$case === 'agentMsg' ? entry.entry.value.agentName : 'customer',
    text: entry.entry?.$case === 'agentMsg' ? entry.entry.value.msg : (entry.entry?.value as string),
  }));
}

/** The history of session `id` in the SQLite rows. */
function historyRows(source: { sessions: SessionColumns[]; entries: EntryColumns[] }, id: string): HistoryRow[] {
  const pk = source.sessions.find((s) => s.id === id)!.pk;
  return source.entries.filter((e) => e.session_pk === pk).map((e) => ({ seq: e.seq, date: e.date_ms, author: e.agent ?? 'customer', text: e.text }));
}
