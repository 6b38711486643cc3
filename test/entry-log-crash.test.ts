import { spawn } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Author } from '../src/domain/entry';
import { encodedHistoryEntrySize } from '../src/transport/history-entry-size';
import { openDatabase } from '../src/storage/open-database';
import { SqliteSessionStore } from '../src/storage/sqlite-session-store';
import { readSession } from './contracts/session-store-contract';
import { makeTempDir, removeTempDir } from './helpers/test-server';
import { waitFor } from './helpers/wait';

const DIST = path.resolve(__dirname, '..', 'dist', 'src');
const SESSIONS = ['s0', 's1', 's2', 's3', 's4'];
const customer: Author = { kind: 'customer' };
const BIG = { maxBytes: 2 ** 40, maxEntries: 2 ** 40 };

/**
 * The writer killed with SIGKILL: the real store (built, in dist/) appending one entry to each
 * session per round, all five in one commit, and printing `acked N` once round N has committed.
 */
const WRITER = `
const { openDatabase } = require(${JSON.stringify(path.join(DIST, 'storage', 'open-database.js'))});
const { SqliteSessionStore } = require(${JSON.stringify(path.join(DIST, 'storage', 'sqlite-session-store.js'))});
const { encodedHistoryEntrySize } = require(${JSON.stringify(path.join(DIST, 'transport', 'history-entry-size.js'))});
const [file, everyEntries] = process.argv.slice(1);
const store = new SqliteSessionStore(openDatabase({ file, sync: 'normal' }).db, { fold: { everyEntries: Number(everyEntries), everyMs: 2 ** 30 } });
const author = { kind: 'customer' };
const draft = (text) => ({ author, text, origin: 'crash', encodedSize: (date) => encodedHistoryEntrySize(date, author, text) });
const ids = ${JSON.stringify(SESSIONS)};
(async () => {
  for (const id of ids) await store.createSession(id, 'c-' + id, new Date(), 10);
  for (let round = 1; ; round++) {
    await Promise.all(ids.map((id) => store.appendEntry(id, draft(id + '-' + round), new Date(), { maxBytes: 2 ** 40, maxEntries: 2 ** 40 })));
    process.stdout.write('acked ' + round + '\\n');
  }
})();
`;

let dir: string;
beforeEach(() => {
  dir = makeTempDir();
});
afterEach(() => removeTempDir(dir));

/** Runs the writer until it has acknowledged `rounds` rounds, kills it with SIGKILL, and returns the last round it acknowledged before it died. */
async function writeUntilKilled(file: string, everyEntries: number, rounds: number): Promise<number> {
  const child = spawn(process.execPath, ['-e', WRITER, file, String(everyEntries)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let acked = 0;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    for (const m of chunk.matchAll(/acked (\d+)/g)) acked = Math.max(acked, Number(m[1]));
  });
  // 'close': the process has exited and its output is read to the end, so `acked` is its last word.
  const closed = new Promise((resolve) => child.on('close', resolve));
  await waitFor(() => acked >= rounds || child.exitCode !== null, 30_000, `${rounds} rounds acknowledged`);
  child.kill('SIGKILL');
  await closed;
  return acked;
}

/** Every session holds rounds 1..n, each once, in order, with n at least `acked` (one round may have committed unacknowledged); returns n. */
async function expectIntact(store: SqliteSessionStore, acked: number): Promise<number> {
  const first = (await readSession(store, SESSIONS[0]!))!;
  const n = first.history.length;
  expect(n === acked || n === acked + 1).toBe(true);
  for (const id of SESSIONS) {
    const { session, history } = (await readSession(store, id))!;
    expect(session.lastSeq).toBe(n);
    expect(history.map((e) => e.text)).toEqual(Array.from({ length: n }, (_, i) => `${id}-${i + 1}`));
    expect(history.map((e) => e.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  }
  return n;
}

/** The history bytes of each session as stored match its entries, so the limit still counts right. */
function expectCountersMatchEntries(file: string): void {
  const db = new Database(file, { readonly: true });
  try {
    const sessions = db.prepare('SELECT pk, last_seq, last_entry_at, history_bytes FROM sessions').all() as { pk: number; last_seq: number; last_entry_at: number; history_bytes: number }[];
    for (const s of sessions) {
      const entries = db.prepare('SELECT seq, date_ms, text FROM entries WHERE session_pk = ? ORDER BY seq').all(s.pk) as { seq: number; date_ms: number; text: string }[];
      expect(s.last_seq).toBe(entries.length);
      expect(s.last_entry_at).toBe(entries.at(-1)!.date_ms);
      expect(s.history_bytes).toBe(entries.reduce((sum, e) => sum + encodedHistoryEntrySize(new Date(e.date_ms), customer, e.text), 0));
    }
  } finally {
    db.close();
  }
}

test('kill -9 between commits and the fold: start-up folds the tail, and nothing is lost, doubled or counted twice', async () => {
  const file = path.join(dir, 'support.db');
  const acked = await writeUntilKilled(file, Number.MAX_SAFE_INTEGER, 300);
  const raw = new Database(file);
  const tail = (raw.prepare('SELECT COUNT(*) AS n FROM entries WHERE id > (SELECT folded_up_to FROM entry_log)').get() as { n: number }).n;
  raw.close();
  expect(tail).toBeGreaterThanOrEqual(acked * SESSIONS.length); // nothing was folded before the kill

  const { db, foldedAtOpen } = openDatabase({ file, sync: 'normal' });
  expect(foldedAtOpen).toBe(tail);
  const store = new SqliteSessionStore(db);
  const n = await expectIntact(store, acked);
  const text = 'after the crash';
  expect((await store.appendEntry('s3', { author: customer, text, origin: 't', encodedSize: (d) => encodedHistoryEntrySize(d, customer, text) }, new Date(), BIG)).seq).toBe(n + 1);
  store.close();
  expectCountersMatchEntries(file);
});

test.each([1, 2, 3])('kill -9 while folds run every few commits (run %i): nothing is lost, doubled or counted twice', async () => {
  const file = path.join(dir, 'support.db');
  const acked = await writeUntilKilled(file, 7, 200 + Math.floor(Math.random() * 200));
  const { db } = openDatabase({ file, sync: 'normal' });
  const store = new SqliteSessionStore(db);
  await expectIntact(store, acked);
  store.close();
  expectCountersMatchEntries(file);
});
