import path from 'node:path';
import Database from 'better-sqlite3';
import type { Author } from '../../src/domain/entry';
import { encodedHistoryEntrySize } from '../../src/transport/history-entry-size';
import { defaultMigrationsDir, loadMigrations, migrate } from '../../src/storage/migrations';
import { openDatabase } from '../../src/storage/open-database';
import { deleteEntriesOfSessions } from '../../src/storage/sqlite/delete-entries';
import { SqliteSessionStore } from '../../src/storage/sqlite-session-store';
import { at, describeSessionStoreContract, draft, readSession } from '../contracts/session-store-contract';
import { makeTempDir, removeTempDir } from '../helpers/test-server';

const BIG = { maxBytes: 1 << 30, maxEntries: 1 << 30 };
/** Never folds by itself: the tests fold when they choose. */
const NEVER = { everyEntries: Number.MAX_SAFE_INTEGER, everyMs: 2 ** 30 };

// The whole contract again with a fold every 3 entries: histories are read while part of them is
// indexed and part is still in the tail, and counters are read across folds.
describeSessionStoreContract('SQLite, folding every 3 entries', async () => {
  const dir = makeTempDir();
  const { db } = openDatabase({ file: path.join(dir, 'support.db'), sync: 'normal' });
  return {
    store: new SqliteSessionStore(db, { fold: { everyEntries: 3, everyMs: 5 } }),
    failEntriesWithText: async (text) => {
      db.prepare(`CREATE TRIGGER fail_text BEFORE INSERT ON entries WHEN NEW.text = '${text}' BEGIN SELECT RAISE(ABORT, 'injected fault'); END`).run();
    },
    close: async () => {
      db.close();
      removeTempDir(dir);
    },
  };
});

describe('the entry log of the SQLite store', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = makeTempDir();
    file = path.join(dir, 'support.db');
  });
  afterEach(() => removeTempDir(dir));

  const tailLength = (db: Database.Database) => (db.prepare('SELECT COUNT(*) AS n FROM entries WHERE id > (SELECT folded_up_to FROM entry_log)').get() as { n: number }).n;

  test('a database written by the 001 layout is converted: every history, counter and queue position intact, and the next entries follow on', async () => {
    const old = new Database(file);
    migrate(old, loadMigrations(defaultMigrationsDir()).slice(0, 1));
    const histories = new Map<string, string[]>();
    const addSession = old.prepare("INSERT INTO sessions (pk, id, customer, state, created_at, awaiting_since, last_seq, last_entry_at, history_bytes, last_activity_at) VALUES (?, ?, ?, 'open', 0, ?, ?, ?, ?, 0)");
    const addEntry = old.prepare('INSERT INTO entries (session_pk, seq, date_ms, agent, text) VALUES (?, ?, ?, ?, ?)');
    // Interleaved, as a live server writes them: entries of one session are spread over the table.
    for (let pk = 1; pk <= 5; pk++) histories.set(`s${pk}`, Array.from({ length: pk * 8 }, (_, i) => `s${pk} entry ${i + 1}`));
    const author = (i: number): Author => (i % 2 ? { kind: 'agent', agentId: 'agent-7' } : { kind: 'customer' });
    old.transaction(() => {
      for (const [id, texts] of histories) {
        const bytes = texts.reduce((sum, text, i) => sum + encodedHistoryEntrySize(at(i + 1), author(i), text), 0);
        addSession.run(Number(id.slice(1)), id, `c-${id}`, id === 's2' ? null : Number(id.slice(1)), texts.length, at(texts.length).getTime(), bytes);
      }
      for (let i = 0; i < 40; i++) {
        for (const [id, texts] of histories) {
          if (i < texts.length) addEntry.run(Number(id.slice(1)), i + 1, at(i + 1).getTime(), i % 2 ? 'agent-7' : null, texts[i]);
        }
      }
    })();
    old.close();

    const { db, migrations } = openDatabase({ file, sync: 'normal' });
    expect(migrations.applied).toContain(2);
    const store = new SqliteSessionStore(db, { fold: NEVER });
    try {
      for (const [id, texts] of histories) {
        const read = (await readSession(store, id))!;
        expect(read.session.lastSeq).toBe(texts.length);
        expect(read.history.map((e) => e.text)).toEqual(texts);
        expect(read.history.map((e) => e.seq)).toEqual(texts.map((_, i) => i + 1));
        expect(read.history.map((e) => e.author)).toEqual(texts.map((_, i) => author(i)));
        expect(read.history.map((e) => e.date)).toEqual(texts.map((_, i) => at(i + 1)));
      }
      // The history byte count carried over: an entry that would pass it by one byte is refused.
      const s1 = histories.get('s1')!;
      const used = (db.prepare("SELECT history_bytes AS n FROM sessions WHERE id = 's1'").get() as { n: number }).n;
      const next = draft('one more');
      const size = next.encodedSize(at(100));
      await expect(store.appendEntry('s1', next, at(100), { maxBytes: used + size - 1, maxEntries: 1000 })).rejects.toMatchObject({ kind: 'resource-exhausted' });
      expect((await store.appendEntry('s1', next, at(100), { maxBytes: used + size, maxEntries: 1000 })).seq).toBe(s1.length + 1);
      expect(await store.takeNextAwaiting()).toBe('s1'); // s2 was attended; s1 has awaited longest
    } finally {
      store.close();
    }
  });

  test('counters and histories are exact with a tail left unfolded, after a fold, and after reopening', async () => {
    let { db } = openDatabase({ file, sync: 'normal' });
    let store = new SqliteSessionStore(db, { fold: NEVER });
    for (const id of ['a', 'b']) await store.createSession(id, `c-${id}`, at(0), 10);
    for (let i = 1; i <= 6; i++) await Promise.all([store.appendEntry('a', draft(`a${i}`), at(i), BIG), store.appendEntry('b', draft(`b${i}`), at(i), BIG)]);
    expect(tailLength(db)).toBe(12);
    // A store opened on a tail (without openDatabase's fold) counts the tail too.
    const second = new SqliteSessionStore(db, { fold: NEVER });
    expect((await second.findSession('a'))!.lastSeq).toBe(6);
    expect((await second.appendEntry('a', draft('a7'), at(7), BIG)).seq).toBe(7);
    db.close();

    ({ db } = openDatabase({ file, sync: 'normal' })); // folds the tail, as at start-up
    expect(tailLength(db)).toBe(0);
    expect(db.prepare("SELECT id, last_seq, last_entry_at FROM sessions ORDER BY pk").all()).toEqual([
      { id: 'a', last_seq: 7, last_entry_at: at(7).getTime() },
      { id: 'b', last_seq: 6, last_entry_at: at(6).getTime() },
    ]);
    store = new SqliteSessionStore(db, { fold: NEVER });
    expect((await store.appendEntry('b', draft('b7'), at(8), BIG)).seq).toBe(7);
    expect((await readSession(store, 'a'))!.history.map((e) => e.text)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7']);
    expect((await readSession(store, 'b'))!.history.map((e) => e.text)).toEqual(['b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7']);
    store.close(); // folds at close: the next start has no tail
    ({ db } = openDatabase({ file, sync: 'normal' }));
    expect(tailLength(db)).toBe(0);
    expect((db.prepare("SELECT last_seq AS n FROM sessions WHERE id = 'b'").get() as { n: number }).n).toBe(7);
    db.close();
  });

  test('deleteEntriesOfSessions deletes folded and unfolded entries of those sessions only, index included', async () => {
    const store = new SqliteSessionStore(openDatabase({ file, sync: 'normal' }).db, { fold: NEVER });
    for (const id of ['a', 'b', 'c']) await store.createSession(id, `c-${id}`, at(0), 10);
    const write = (round: number) => Promise.all(['a', 'b', 'c'].map((id) => store.appendEntry(id, draft(`${id}${round}`), at(round), BIG)));
    for (let i = 1; i <= 3; i++) await write(i);
    store.close(); // folds: these are in the index
    const { db: reopened } = openDatabase({ file, sync: 'normal' });
    const again = new SqliteSessionStore(reopened, { fold: NEVER });
    for (const id of ['a', 'b', 'c']) for (let i = 4; i <= 5; i++) await again.appendEntry(id, draft(`${id}${i}`), at(i), BIG);
    expect(tailLength(reopened)).toBe(6);
    const pks = reopened.prepare("SELECT pk FROM sessions WHERE id IN ('a', 'c')").pluck().all() as number[];
    expect(reopened.transaction(() => deleteEntriesOfSessions(reopened, pks))()).toBe(10);
    const left = (sql: string) => reopened.prepare(sql).pluck().all();
    expect(left('SELECT text FROM entries ORDER BY id')).toEqual(['b1', 'b2', 'b3', 'b4', 'b5']);
    expect(left('SELECT seq FROM entry_index ORDER BY session_pk, seq')).toEqual([1, 2, 3]);
    expect((await readSession(again, 'b'))!.history.map((e) => e.text)).toEqual(['b1', 'b2', 'b3', 'b4', 'b5']);
    expect(deleteEntriesOfSessions(reopened, [])).toBe(0);
    again.close();
  });
});
