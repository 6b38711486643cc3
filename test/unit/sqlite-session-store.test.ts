import path from 'node:path';
import type Database from 'better-sqlite3';
import { ChatError } from '../../src/domain/chat-error';
import { encodedHistoryEntrySize, type Author } from '../../src/domain/entry';
import type { EntryDraft } from '../../src/domain/session-store';
import { openDatabase } from '../../src/storage/open-database';
import { SqliteSessionStore } from '../../src/storage/sqlite-session-store';
import { makeTempDir, removeTempDir } from '../helpers/test-server';

let dir: string;
let db: Database.Database;
let store: SqliteSessionStore;
const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);
const customer: Author = { kind: 'customer' };
const draft = (text: string, author: Author = customer): EntryDraft => ({
  author,
  text,
  encodedSize: (date) => encodedHistoryEntrySize(date, author, text),
});
const BIG = { maxBytes: 1 << 30, maxEntries: 1 << 30 };
const bytesOnly = (maxBytes: number) => ({ maxBytes, maxEntries: 1 << 30 });

beforeEach(() => {
  dir = makeTempDir();
  db = openDatabase({ file: path.join(dir, 'db', 'support.db'), sync: 'normal' }).db;
  store = new SqliteSessionStore(db);
});

afterEach(() => {
  db.close();
  removeTempDir(dir);
});

/** The session and its whole history, read as a joining stream reads it: page by page. */
async function readSession(id: string) {
  const session = await store.findSession(id);
  if (!session) return undefined;
  const history = [];
  for (let page = await store.readHistory(id, 0, session.lastSeq, 2); page.length > 0; page = await store.readHistory(id, page.at(-1)!.seq, session.lastSeq, 2)) {
    history.push(...page);
  }
  return { session, history };
}

async function expectChatError(promise: Promise<unknown>, kind: ChatError['kind']): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(ChatError);
  await expect(promise).rejects.toMatchObject({ kind });
}

describe('SqliteSessionStore', () => {
  test('entries get sequence numbers 1, 2, 3 per session and come back in order', async () => {
    await store.createSession('a', 'joe', at(0), 10);
    await store.createSession('b', 'joe', at(0), 10);
    expect((await store.appendEntry('a', draft('one'), at(1), BIG)).seq).toBe(1);
    expect((await store.appendEntry('b', draft('other'), at(1), BIG)).seq).toBe(1);
    const agent: Author = { kind: 'agent', agentId: 'agent-x' };
    expect((await store.appendEntry('a', draft('two', agent), at(2), BIG)).seq).toBe(2);
    const read = await readSession('a');
    expect(read?.session).toEqual({ id: 'a', customerId: 'joe', state: 'open', lastSeq: 2 });
    expect(read?.history).toEqual([
      { seq: 1, date: at(1), author: customer, text: 'one' },
      { seq: 2, date: at(2), author: agent, text: 'two' },
    ]);
  });

  test('a write that fails for an unexpected reason fails alone: the rest of its batch commits with no gap in the sequence', async () => {
    await store.createSession('a', 'joe', at(0), 10);
    await store.createSession('b', 'ann', at(0), 10);
    await store.appendEntry('a', draft('before'), at(1), BIG);
    db.exec(`CREATE TRIGGER fail_bad BEFORE INSERT ON entries WHEN NEW.text = 'bad'
             BEGIN SELECT RAISE(ABORT, 'injected fault'); END`);
    // One turn of the event loop: one batch, rolled back by 'bad', then retried one by one.
    const results = await Promise.allSettled([
      store.appendEntry('a', draft('one'), at(2), BIG),
      store.appendEntry('b', draft('b-one'), at(2), BIG),
      store.appendEntry('a', draft('bad'), at(3), BIG),
      store.appendEntry('a', draft('two'), at(4), BIG),
    ]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value.seq : 'failed'))).toEqual([2, 1, 'failed', 3]);
    expect((await store.appendEntry('a', draft('three'), at(5), BIG)).seq).toBe(4);
    const read = await readSession('a');
    expect(read?.session.lastSeq).toBe(4);
    expect(read?.history.map((e) => [e.seq, e.text])).toEqual([[1, 'before'], [2, 'one'], [3, 'two'], [4, 'three']]);
    expect((await readSession('b'))?.session.lastSeq).toBe(1);
  });

  test('an entry date never goes back within a session, even when the clock does', async () => {
    await store.createSession('a', 'joe', at(0), 10);
    await store.appendEntry('a', draft('one'), at(5000), BIG);
    const second = await store.appendEntry('a', draft('two'), at(1000), BIG);
    expect(second.date).toEqual(at(5000));
    const third = await store.appendEntry('a', draft('three'), at(6000), BIG);
    expect(third.date).toEqual(at(6000));
  });

  test('the history limit refuses the entry that would pass it, and accepts one that reaches it exactly', async () => {
    await store.createSession('a', 'joe', at(0), 10);
    const size = encodedHistoryEntrySize(at(1), customer, 'hello');
    await store.appendEntry('a', draft('hello'), at(1), bytesOnly(size * 2));
    await store.appendEntry('a', draft('hello'), at(1), bytesOnly(size * 2));
    await expectChatError(store.appendEntry('a', draft('hello'), at(1), bytesOnly(size * 3 - 1)), 'resource-exhausted');
    expect((await readSession('a'))?.history).toHaveLength(2);
  });

  test('a customer cannot open more than maxOpen sessions; ended ones do not count', async () => {
    await store.createSession('a', 'joe', at(0), 2);
    await store.createSession('b', 'joe', at(0), 2);
    await expectChatError(store.createSession('c', 'joe', at(0), 2), 'resource-exhausted');
    await store.createSession('d', 'ann', at(0), 2);
    await store.endSession('a', at(1));
    await store.createSession('c', 'joe', at(2), 2);
  });

  test('ending returns the last sequence number; an ended session takes no entries and cannot end twice', async () => {
    await store.createSession('a', 'joe', at(0), 10);
    await store.appendEntry('a', draft('one'), at(1), BIG);
    expect(await store.endSession('a', at(2))).toEqual({ lastSeq: 1 });
    await expectChatError(store.appendEntry('a', draft('late'), at(3), BIG), 'failed-precondition');
    await expectChatError(store.endSession('a', at(3)), 'failed-precondition');
    expect((await store.findSession('a'))?.state).toBe('ended');
  });

  test('the queue gives the session awaiting longest, each only once, and skips ended ones', async () => {
    await store.createSession('a', 'joe', at(1), 10);
    await store.createSession('b', 'ann', at(2), 10);
    await store.createSession('c', 'bob', at(2), 10);
    await store.endSession('b', at(3));
    expect(await store.takeNextAwaiting()).toBe('a');
    expect(await store.takeNextAwaiting()).toBe('c');
    expect(await store.takeNextAwaiting()).toBeUndefined();
  });

  test('a session whose last agent left goes to the end of the queue; an ended one does not return', async () => {
    await store.createSession('a', 'joe', at(1), 10);
    await store.createSession('b', 'ann', at(2), 10);
    expect(await store.takeNextAwaiting()).toBe('a');
    await store.markAwaiting('a', at(3));
    expect(await store.takeNextAwaiting()).toBe('b');
    await store.endSession('b', at(4));
    await store.markAwaiting('b', at(5));
    expect(await store.takeNextAwaiting()).toBe('a');
    expect(await store.takeNextAwaiting()).toBeUndefined();
  });

  test('at start-up attended sessions join the queue behind the awaiting ones, in order of creation', async () => {
    for (const [id, t] of [['s1', 1], ['s2', 2], ['s3', 3], ['s4', 4]] as const) await store.createSession(id, `c-${id}`, at(t), 10);
    await store.markAttended('s3');
    await store.markAttended('s1');
    await store.markAwaiting('s2', at(10)); // s2 became agent-less again later than s4
    expect(store.requeueAttendedSessions(at(5))).toBe(2);
    const order = [];
    for (let id = await store.takeNextAwaiting(); id; id = await store.takeNextAwaiting()) order.push(id);
    expect(order).toEqual(['s4', 's2', 's1', 's3']);
  });

  test('idle sessions are those whose last entry and customer detach are both older than the cutoff', async () => {
    await store.createSession('a', 'joe', at(0), 10);
    await store.createSession('b', 'ann', at(0), 10);
    await store.createSession('c', 'bob', at(0), 10);
    await store.appendEntry('b', draft('hi'), at(100), BIG);
    await store.recordCustomerPresence(['c'], at(100));
    expect(await store.findIdleSessions(at(50), 10)).toEqual(['a']);
    expect((await store.findIdleSessions(at(100), 10)).sort()).toEqual(['a', 'b', 'c']);
  });

  test('the entry limit refuses the entry past it, however small, and the session stays open', async () => {
    await store.createSession('a', 'joe', at(0), 10);
    const limits = { maxBytes: 1 << 30, maxEntries: 3 };
    for (const text of ['1', '2', '3']) await store.appendEntry('a', draft(text), at(1), limits);
    await expectChatError(store.appendEntry('a', draft('4'), at(1), limits), 'resource-exhausted');
    expect(await store.findSession('a')).toMatchObject({ state: 'open', lastSeq: 3 });
  });

  test('a history is read in pages bounded by the snapshot, whatever was committed after it', async () => {
    await store.createSession('a', 'joe', at(0), 10);
    for (let i = 1; i <= 5; i++) await store.appendEntry('a', draft(`m${i}`), at(i), BIG);
    expect((await store.readHistory('a', 0, 3, 10)).map((e) => e.text)).toEqual(['m1', 'm2', 'm3']);
    expect((await store.readHistory('a', 1, 5, 2)).map((e) => e.seq)).toEqual([2, 3]);
    expect(await store.readHistory('a', 5, 5, 2)).toEqual([]);
    expect(await store.readHistory('missing', 0, 5, 2)).toEqual([]);
  });

  test('the queue order never goes back with the clock: a session queued after a clock step back waits behind the earlier ones', async () => {
    await store.createSession('early', 'joe', at(60_000), 10); // the clock was ahead then
    await store.createSession('later', 'ann', at(1000), 10); // set back since
    await store.createSession('latest', 'bob', at(2000), 10);
    const attended = await store.takeNextAwaiting();
    expect(attended).toBe('early');
    await store.markAwaiting('early', at(3000)); // its agent left: the end of the queue, despite the clock
    const order = [];
    for (let id = await store.takeNextAwaiting(); id; id = await store.takeNextAwaiting()) order.push(id);
    expect(order).toEqual(['later', 'latest', 'early']);
  });

  test('attaching an agent or a customer returns the session as of that moment; ended and unknown sessions are refused', async () => {
    await store.createSession('a', 'joe', at(0), 10);
    await store.appendEntry('a', draft('one'), at(1), BIG);
    expect(await store.markAttended('a')).toEqual({ id: 'a', customerId: 'joe', state: 'open', lastSeq: 1 });
    expect(await store.takeNextAwaiting()).toBeUndefined(); // attended: out of the queue
    expect(await store.attachCustomer('a', at(2))).toEqual({ id: 'a', customerId: 'joe', state: 'open', lastSeq: 1 });
    await store.endSession('a', at(3));
    await expectChatError(store.markAttended('a'), 'failed-precondition');
    await expectChatError(store.attachCustomer('a', at(4)), 'failed-precondition');
    await expectChatError(store.markAttended('nope'), 'not-found');
    await expectChatError(store.attachCustomer('nope', at(4)), 'not-found');
  });

  test('an idle end is checked in its own transaction: a customer who attached after the cutoff keeps the session open', async () => {
    await store.createSession('a', 'joe', at(0), 10);
    await store.createSession('b', 'ann', at(0), 10);
    await store.createSession('c', 'bob', at(0), 10);
    await store.appendEntry('c', draft('late entry'), at(200), BIG);
    const cutoff = at(100);
    expect((await store.findIdleSessions(cutoff, 10)).sort()).toEqual(['a', 'b']);
    await store.attachCustomer('b', at(150)); // resumed between the sweep's query and its end
    expect(await store.endIdleSession('a', cutoff, at(300))).toEqual({ lastSeq: 0 });
    expect(await store.endIdleSession('b', cutoff, at(300))).toBeUndefined();
    expect(await store.endIdleSession('c', cutoff, at(300))).toBeUndefined();
    expect(await store.endIdleSession('a', cutoff, at(300))).toBeUndefined(); // already ended
    expect((await store.findSession('a'))?.state).toBe('ended');
    expect((await store.findSession('b'))?.state).toBe('open');
  });
});
