import { expect } from '@jest/globals';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ChatError } from '../../src/domain/chat-error';
import { encodedHistoryEntrySize } from '../../src/transport/history-entry-size';
import type { EntryDraft } from '../../src/domain/session-store';
import { GroupCommit } from '../../src/storage/group-commit';
import { openDatabase } from '../../src/storage/open-database';
import { SqliteSessionStore } from '../../src/storage/sqlite-session-store';
import { watchEventLoop, type EventLoopWatch } from '../helpers/event-loop-watch';
import { makeTempDir, removeTempDir } from '../helpers/test-server';

/*
 * GroupCommit against a real SQLite file while a second connection (as an operator's sqlite3
 * shell would) holds the write lock with BEGIN IMMEDIATE.
 */

let dir: string;
let file: string;
let db: Database.Database;
let other: Database.Database;
let loopWatch: EventLoopWatch | undefined;
/** Closed after each test, before the database, so that no retry outlives a failed test. */
let closeAfterTest: Array<{ close(): void }>;

beforeEach(() => {
  dir = makeTempDir('support-group-commit-');
  file = path.join(dir, 'support.db');
  db = openDatabase({ file, sync: 'normal' }).db;
  db.exec('CREATE TABLE written (n INTEGER NOT NULL)');
  other = new Database(file);
  closeAfterTest = [];
});

afterEach(() => {
  loopWatch?.stop();
  loopWatch = undefined;
  for (const closable of closeAfterTest) closable.close();
  other.close();
  if (db.open) db.close();
  removeTempDir(dir);
});

const noHooks = { beforeCommit: () => {}, afterRollback: () => {} };
function newGroupCommit(hooks = noHooks, maxLockWaitMs?: number): GroupCommit {
  const commit = new GroupCommit(db, hooks, maxLockWaitMs);
  closeAfterTest.push(commit);
  return commit;
}
function newStore(): SqliteSessionStore {
  const store = new SqliteSessionStore(db);
  closeAfterTest.push(store);
  return store;
}
const insert = (n: number) => () => void db.prepare('INSERT INTO written (n) VALUES (?)').run(n);
const written = () => db.prepare<[], { n: number }>('SELECT n FROM written ORDER BY rowid').all().map((row) => row.n);
const holdLock = () => other.exec('BEGIN IMMEDIATE');
const releaseLock = () => other.exec('COMMIT');
/** Lets `ms` pass with the event loop free (the lock is held meanwhile): the scenario's length, not a wait for a result. */
const pass = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Records the order in which promises settle, and how. */
function settleOrder(promises: Promise<unknown>[]): string[] {
  const order: string[] = [];
  promises.forEach((p, i) =>
    void p.then(
      () => order.push(`${i}:ok`),
      (err: unknown) => order.push(`${i}:${err instanceof ChatError ? err.kind : String(err)}`),
    ),
  );
  return order;
}

describe('GroupCommit while another connection holds the write lock', () => {
  test('waiting writes keep the event loop free, later writes queue behind them, and all commit in order once the lock is released', async () => {
    const commit = newGroupCommit();
    holdLock();
    const loop = (loopWatch = watchEventLoop());
    const first = [1, 2, 3].map((n) => commit.run(insert(n)));
    await pass(300);
    const later = [4, 5].map((n) => commit.run(insert(n)));
    const order = settleOrder([...first, ...later]);
    await pass(300);
    expect(order).toEqual([]); // nothing settled while the lock is held, nothing failed
    expect(loop.longestStall()).toBeLessThan(250); // a synchronous wait would stall for the whole hold (≥ 600 ms)
    releaseLock();
    await Promise.all([...first, ...later]);
    expect(order).toEqual(['0:ok', '1:ok', '2:ok', '3:ok', '4:ok']);
    expect(written()).toEqual([1, 2, 3, 4, 5]);
  });

  test('200 waiting writes do not block the event loop either', async () => {
    const commit = newGroupCommit();
    holdLock();
    const loop = (loopWatch = watchEventLoop());
    const writes = Array.from({ length: 200 }, (_, n) => commit.run(insert(n)));
    await pass(1000);
    expect(loop.longestStall()).toBeLessThan(250); // a synchronous wait would stall for the whole hold (≥ 600 ms)
    releaseLock();
    await Promise.all(writes);
    expect(written()).toEqual(Array.from({ length: 200 }, (_, n) => n));
  });

  test('a write that waited past the limit fails with UNAVAILABLE, in queue order, while later ones keep waiting and then commit', async () => {
    const commit = newGroupCommit(noHooks, 600);
    holdLock();
    const old = commit.run(insert(1));
    await pass(300);
    const young = commit.run(insert(2));
    const order = settleOrder([old, young]);
    await expect(old).rejects.toMatchObject({ kind: 'unavailable', message: expect.stringContaining('locked') });
    expect(order).toEqual(['0:unavailable']);
    releaseLock();
    await young;
    expect(order).toEqual(['0:unavailable', '1:ok']);
    expect(written()).toEqual([2]);
  });

  test('the store recovers by itself: a write after an expired wait and the release commits', async () => {
    const commit = newGroupCommit(noHooks, 100);
    holdLock();
    await expect(commit.run(insert(1))).rejects.toMatchObject({ kind: 'unavailable' });
    releaseLock();
    await commit.run(insert(2));
    expect(written()).toEqual([2]);
  });

  test('a lock conflict does not split the batch: a faulty item after the wait still fails alone, the others commit', async () => {
    const commit = newGroupCommit();
    holdLock();
    const writes = [
      commit.run(insert(1)),
      commit.run(() => {
        throw new Error('injected fault');
      }),
      commit.run(insert(3)),
    ];
    const order = settleOrder(writes);
    await pass(100);
    releaseLock();
    await Promise.allSettled(writes);
    expect(order).toEqual(['0:ok', '1:Error: injected fault', '2:ok']);
    expect(written()).toEqual([1, 3]);
  });

  test('a lock taken while a faulty batch is retried item by item: the items done settle, the rest wait for the lock', async () => {
    let rollbacks = 0;
    // The second rollback is the faulty item's own: the other connection takes the lock right after it.
    const commit = newGroupCommit({ beforeCommit: () => {}, afterRollback: () => ++rollbacks === 2 && holdLock() });
    const faulty = () => {
      throw new Error('injected fault');
    };
    const writes = [commit.run(insert(1)), commit.run(faulty), commit.run(insert(3)), commit.run(insert(4))];
    const order = settleOrder(writes);
    await Promise.allSettled(writes.slice(0, 2));
    await pass(50);
    expect(order).toEqual(['0:ok', '1:Error: injected fault']);
    releaseLock();
    await Promise.all(writes.slice(2));
    expect(order).toEqual(['0:ok', '1:Error: injected fault', '2:ok', '3:ok']);
    expect(written()).toEqual([1, 3, 4]);
  });

  test('a lock conflict is not taken for a faulty item: one attempt per batch, not one per item', async () => {
    let attempts = 0;
    const commit = newGroupCommit({ beforeCommit: () => {}, afterRollback: () => attempts++ });
    holdLock();
    const writes = [1, 2, 3].map((n) => commit.run(insert(n)));
    await new Promise((resolve) => setImmediate(resolve)); // the batch's first attempt has run
    expect(attempts).toBe(1);
    releaseLock();
    await Promise.all(writes);
    expect(written()).toEqual([1, 2, 3]);
  });

  test('close() while writes wait: they fail with UNAVAILABLE at once, and later writes are refused', async () => {
    const commit = newGroupCommit();
    holdLock();
    const waiting = commit.run(insert(1));
    await pass(50);
    const closedAt = performance.now();
    commit.close();
    await expect(waiting).rejects.toMatchObject({ kind: 'unavailable', message: expect.stringContaining('shutting down') });
    expect(performance.now() - closedAt).toBeLessThan(100);
    await expect(commit.run(insert(2))).rejects.toMatchObject({ kind: 'unavailable' });
    releaseLock();
    expect(written()).toEqual([]);
  });

  test('after a wait, the first attempts are fast again: the backoff starts over once a batch commits', async () => {
    const commit = newGroupCommit();
    holdLock();
    const waited = commit.run(insert(1));
    await pass(1000); // the pause between attempts has grown to its maximum
    releaseLock();
    await waited;
    holdLock();
    const next = commit.run(insert(2));
    await pass(20);
    const releasedAt = performance.now();
    releaseLock();
    await next;
    expect(performance.now() - releasedAt).toBeLessThan(120);
  });
});

describe('SqliteSessionStore while another connection holds the write lock', () => {
  const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);
  const draft = (text: string): EntryDraft => ({
    author: { kind: 'customer' },
    text,
    origin: 'test.1',
    encodedSize: (date) => encodedHistoryEntrySize(date, { kind: 'customer' }, text),
  });
  const NO_LIMIT = { maxBytes: 1 << 30, maxEntries: 1 << 30 };
  const texts = async (store: SqliteSessionStore, id: string) => (await store.readHistory(id, 0, Number.MAX_SAFE_INTEGER, 100)).map((e) => e.text);

  test('a write that waited for the lock sees what the other connection changed (the row cache is forgotten when BEGIN fails)', async () => {
    const store = newStore();
    await store.createSession('a', 'joe', at(0), 10);
    await store.appendEntry('a', draft('one'), at(1), NO_LIMIT); // its row is now in the store's cache
    holdLock();
    other.prepare("UPDATE sessions SET state = 'ended' WHERE id = 'a'").run(); // an operator ends it by hand
    const late = store.appendEntry('a', draft('two'), at(2), NO_LIMIT);
    await new Promise((resolve) => setImmediate(resolve)); // the batch's first attempt has run and failed
    releaseLock();
    await expect(late).rejects.toMatchObject({ kind: 'failed-precondition' });
    expect(await texts(store, 'a')).toEqual(['one']);
  });

  test('reads are answered while the lock is held', async () => {
    const store = newStore();
    await store.createSession('a', 'joe', at(0), 10);
    await store.appendEntry('a', draft('one'), at(1), NO_LIMIT);
    holdLock();
    const startedAt = performance.now();
    expect((await store.findSession('a'))?.lastSeq).toBe(1);
    expect(await texts(store, 'a')).toEqual(['one']);
    expect(await store.findIdleSessions(at(10), 10)).toEqual(['a']);
    expect(performance.now() - startedAt).toBeLessThan(50);
    releaseLock();
  });
});
