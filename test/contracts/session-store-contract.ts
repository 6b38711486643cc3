import { ChatError } from '../../src/domain/chat-error';
import { encodedHistoryEntrySize, type Author } from '../../src/domain/entry';
import type { EntryDraft, SessionStore } from '../../src/domain/session-store';

/** A store under test, on a database of its own. */
export type StoreUnderTest = Readonly<{
  store: SessionStore;
  /** Makes the database refuse (an unexpected error) every entry whose text is `text`. */
  failEntriesWithText: (text: string) => Promise<void>;
  /** A second store on the same database, as another instance has: only for stores shared by instances. */
  anotherInstance?: () => Promise<SessionStore>;
  close: () => Promise<void>;
}>;

export const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);
const customer: Author = { kind: 'customer' };
export const draft = (text: string, author: Author = customer): EntryDraft => ({
  author,
  text,
  origin: 'test.1',
  encodedSize: (date) => encodedHistoryEntrySize(date, author, text),
});
const BIG = { maxBytes: 1 << 30, maxEntries: 1 << 30 };
const bytesOnly = (maxBytes: number) => ({ maxBytes, maxEntries: 1 << 30 });

/** The session and its whole history, read as a joining stream reads it: page by page. */
export async function readSession(store: SessionStore, id: string) {
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

/**
 * The contract of the storage port (src/domain/session-store.ts), run against every
 * implementation: `make` gives a store on a fresh database for each test.
 */
export function describeSessionStoreContract(name: string, make: () => Promise<StoreUnderTest>): void {
  describe(`${name}: the storage port`, () => {
    let sut: StoreUnderTest;
    let store: SessionStore;
    beforeEach(async () => {
      sut = await make();
      store = sut.store;
    });
    afterEach(() => sut.close());

    test('entries get sequence numbers 1, 2, 3 per session and come back in order', async () => {
      await store.createSession('a', 'joe', at(0), 10);
      await store.createSession('b', 'joe', at(0), 10);
      expect((await store.appendEntry('a', draft('one'), at(1), BIG)).seq).toBe(1);
      expect((await store.appendEntry('b', draft('other'), at(1), BIG)).seq).toBe(1);
      const agent: Author = { kind: 'agent', agentId: 'agent-x' };
      expect((await store.appendEntry('a', draft('two', agent), at(2), BIG)).seq).toBe(2);
      const read = await readSession(store, 'a');
      expect(read?.session).toEqual({ id: 'a', customerId: 'joe', state: 'open', lastSeq: 2 });
      expect(read?.history).toEqual([
        { seq: 1, date: at(1), author: customer, text: 'one' },
        { seq: 2, date: at(2), author: agent, text: 'two' },
      ]);
    });

    test('any valid text comes back as written, U+0000 and other controls included', async () => {
      await store.createSession('a', 'joe', at(0), 10);
      const texts = ['nul \u0000 inside', '\u{F8FF}"starts with a private-use character"', 'é 😀 \u2028 \\u0000 \n\t', '\u0000'];
      for (const text of texts) await store.appendEntry('a', draft(text), at(1), BIG);
      expect((await readSession(store, 'a'))?.history.map((e) => e.text)).toEqual(texts);
    });

    test('entries queued together commit together, each in order, without a gap', async () => {
      await store.createSession('a', 'joe', at(0), 10);
      const seqs = await Promise.all(Array.from({ length: 200 }, (_, i) => store.appendEntry('a', draft(`m${i}`), at(i), BIG).then((e) => e.seq)));
      expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      expect((await readSession(store, 'a'))?.history.map((e) => e.text)).toEqual(Array.from({ length: 200 }, (_, i) => `m${i}`));
    });

    test('a write that fails for an unexpected reason fails alone: the rest of its batch commits with no gap in the sequence', async () => {
      await store.createSession('a', 'joe', at(0), 10);
      await store.createSession('b', 'ann', at(0), 10);
      await store.appendEntry('a', draft('before'), at(1), BIG);
      await sut.failEntriesWithText('bad');
      const results = await Promise.allSettled([
        store.appendEntry('a', draft('one'), at(2), BIG),
        store.appendEntry('b', draft('b-one'), at(2), BIG),
        store.appendEntry('a', draft('bad'), at(3), BIG),
        store.appendEntry('a', draft('two'), at(4), BIG),
      ]);
      expect(results.map((r) => (r.status === 'fulfilled' ? r.value.seq : 'failed'))).toEqual([2, 1, 'failed', 3]);
      expect((await store.appendEntry('a', draft('three'), at(5), BIG)).seq).toBe(4);
      const read = await readSession(store, 'a');
      expect(read?.history.map((e) => [e.seq, e.text])).toEqual([[1, 'before'], [2, 'one'], [3, 'two'], [4, 'three']]);
      expect((await store.findSession('b'))?.lastSeq).toBe(1);
    });

    test('an entry date never goes back within a session, even when the clock does', async () => {
      await store.createSession('a', 'joe', at(0), 10);
      await store.appendEntry('a', draft('one'), at(5000), BIG);
      expect((await store.appendEntry('a', draft('two'), at(1000), BIG)).date).toEqual(at(5000));
      expect((await store.appendEntry('a', draft('three'), at(6000), BIG)).date).toEqual(at(6000));
    });

    test('the history byte limit refuses the entry that would pass it, and accepts one that reaches it exactly', async () => {
      await store.createSession('a', 'joe', at(0), 10);
      const size = encodedHistoryEntrySize(at(1), customer, 'hello');
      await store.appendEntry('a', draft('hello'), at(1), bytesOnly(size * 2));
      await store.appendEntry('a', draft('hello'), at(1), bytesOnly(size * 2));
      await expectChatError(store.appendEntry('a', draft('hello'), at(1), bytesOnly(size * 3 - 1)), 'resource-exhausted');
      expect((await readSession(store, 'a'))?.history).toHaveLength(2);
    });

    test('the entry limit refuses the entry past it, however small, and the session stays open', async () => {
      await store.createSession('a', 'joe', at(0), 10);
      const limits = { maxBytes: 1 << 30, maxEntries: 3 };
      for (const text of ['1', '2', '3']) await store.appendEntry('a', draft(text), at(1), limits);
      await expectChatError(store.appendEntry('a', draft('4'), at(1), limits), 'resource-exhausted');
      expect(await store.findSession('a')).toMatchObject({ state: 'open', lastSeq: 3 });
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
      await expectChatError(store.endSession('nope', at(3)), 'not-found');
      await expectChatError(store.appendEntry('nope', draft('x'), at(3), BIG), 'not-found');
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

    test('a session waiting for an agent is taken from the queue while its customer is writing to it', async () => {
      for (let round = 0; round < 10; round++) {
        await store.createSession(`s${round}`, `customer-${round}`, at(round), 10);
        const writing = Array.from({ length: 30 }, (_, i) => store.appendEntry(`s${round}`, draft(`m${i}`), at(round), BIG));
        expect(await store.takeNextAwaiting()).toBe(`s${round}`);
        await Promise.all(writing);
      }
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

    test('the queue order never goes back with the clock: a session queued after a clock step back waits behind the earlier ones', async () => {
      await store.createSession('early', 'joe', at(60_000), 10); // the clock was ahead then
      await store.createSession('later', 'ann', at(1000), 10); // set back since
      await store.createSession('latest', 'bob', at(2000), 10);
      expect(await store.takeNextAwaiting()).toBe('early');
      await store.markAwaiting('early', at(3000)); // its agent left: the end of the queue, despite the clock
      const order = [];
      for (let id = await store.takeNextAwaiting(); id; id = await store.takeNextAwaiting()) order.push(id);
      expect(order).toEqual(['later', 'latest', 'early']);
    });

    test('a history is read in pages bounded by the snapshot, whatever was committed after it', async () => {
      await store.createSession('a', 'joe', at(0), 10);
      for (let i = 1; i <= 5; i++) await store.appendEntry('a', draft(`m${i}`), at(i), BIG);
      expect((await store.readHistory('a', 0, 3, 10)).map((e) => e.text)).toEqual(['m1', 'm2', 'm3']);
      expect((await store.readHistory('a', 1, 5, 2)).map((e) => e.seq)).toEqual([2, 3]);
      expect(await store.readHistory('a', 5, 5, 2)).toEqual([]);
      expect(await store.readHistory('missing', 0, 5, 2)).toEqual([]);
    });

    test('marking a session attended returns it as of that moment; ended and unknown sessions are refused', async () => {
      await store.createSession('a', 'joe', at(0), 10);
      await store.appendEntry('a', draft('one'), at(1), BIG);
      expect(await store.markAttended('a', 'agent1', at(9))).toEqual({ id: 'a', customerId: 'joe', state: 'open', lastSeq: 1 });
      expect(await store.takeNextAwaiting()).toBeUndefined(); // attended: out of the queue
      await store.endSession('a', at(3));
      await expectChatError(store.markAttended('a', 'agent1', at(9)), 'failed-precondition');
      await expectChatError(store.markAttended('nope', 'agent1', at(9)), 'not-found');
    });

    test('idle sessions are those whose last entry and customer presence are both older than the cutoff', async () => {
      await store.createSession('a', 'joe', at(0), 10);
      await store.createSession('b', 'ann', at(0), 10);
      await store.createSession('c', 'bob', at(0), 10);
      await store.appendEntry('b', draft('hi'), at(100), BIG);
      await store.recordCustomerPresence(['c'], at(100));
      expect(await store.findIdleSessions(at(50), 10)).toEqual(['a']);
      expect((await store.findIdleSessions(at(100), 10)).sort()).toEqual(['a', 'b', 'c']);
    });

    test('an idle end is checked in its own transaction: a customer present after the cutoff keeps the session open', async () => {
      await store.createSession('a', 'joe', at(0), 10);
      await store.createSession('b', 'ann', at(0), 10);
      await store.createSession('c', 'bob', at(0), 10);
      await store.appendEntry('c', draft('late entry'), at(200), BIG);
      const cutoff = at(100);
      expect((await store.findIdleSessions(cutoff, 10)).sort()).toEqual(['a', 'b']);
      await store.recordCustomerPresence(['b'], at(150)); // present between the sweep's query and its end
      expect(await store.endIdleSession('a', cutoff, at(300))).toEqual({ lastSeq: 0 });
      expect(await store.endIdleSession('b', cutoff, at(300))).toBeUndefined();
      expect(await store.endIdleSession('c', cutoff, at(300))).toBeUndefined();
      expect(await store.endIdleSession('a', cutoff, at(300))).toBeUndefined(); // already ended
      expect((await store.findSession('a'))?.state).toBe('ended');
      expect((await store.findSession('b'))?.state).toBe('open');
    });

    describe('shared by instances', () => {
      const shared = (body: (other: SessionStore) => Promise<void>) => async () => {
        if (!sut.anotherInstance) return; // a store of one process: nothing to share
        await body(await sut.anotherInstance());
      };

      test(
        'two instances writing one session at once: one sequence, no number twice, nothing lost',
        shared(async (other) => {
          await store.createSession('a', 'joe', at(0), 10);
          const writes = Array.from({ length: 100 }, (_, i) => (i % 2 ? store : other).appendEntry('a', draft(`m${i}`), at(i), BIG));
          const seqs = (await Promise.all(writes)).map((e) => e.seq).sort((x, y) => x - y);
          expect(seqs).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
          expect((await readSession(other, 'a'))?.history).toHaveLength(100);
        }),
      );

      test(
        'two instances taking from the queue at once never take the same session',
        shared(async (other) => {
          for (let i = 0; i < 20; i++) await store.createSession(`s${i}`, `c${i}`, at(i), 10);
          const taken = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? store : other).takeNextAwaiting()));
          const sessions = taken.filter((id) => id !== undefined);
          expect(sessions).toHaveLength(20);
          expect(new Set(sessions).size).toBe(20);
        }),
      );

      test(
        "a customer's open sessions are counted over instances, even when created at once",
        shared(async (other) => {
          const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => (i % 2 ? store : other).createSession(`s${i}`, 'joe', at(i), 3)));
          expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
        }),
      );
    });
  });
}
