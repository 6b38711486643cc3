import fc from 'fast-check';
import type { Author, Entry, SessionSnapshot } from '../../src/domain/entry';
import { ChatAgentResponse, ChatCustomerResponse } from '../../gen/support';
import { EncodedHistoryCache } from '../../src/transport/encoded-history-cache';
import { toChatEntry } from '../../src/transport/proto-mapping';
import { SliceScheduler } from '../../src/transport/slice-scheduler';
import { SnapshotEncoder } from '../../src/transport/snapshot-encoder';

const author = fc.oneof(
  fc.constant<Author>({ kind: 'customer' }),
  fc.string({ minLength: 1, maxLength: 12 }).map((agentId): Author => ({ kind: 'agent', agentId })),
);
const entries = fc.array(fc.record({ author, text: fc.string({ minLength: 1, maxLength: 40 }), ms: fc.integer({ min: 0, max: 4e12 }) }), { maxLength: 700 });

function history(drafts: { author: Author; text: string; ms: number }[]): Entry[] {
  return drafts.map((d, i) => ({ seq: i + 1, date: new Date(d.ms), author: d.author, text: d.text }));
}

/** A snapshot over `all` that ends at `lastSeq`, counting the entries it is asked for. */
function snapshotOf(all: Entry[], lastSeq: number, reads: { entries: number }): SessionSnapshot {
  return {
    sessionId: 'session-1',
    customerId: 'joe',
    lastSeq,
    readHistory: async (afterSeq, limit) => {
      const page = all.filter((e) => e.seq > afterSeq && e.seq <= lastSeq).slice(0, limit);
      reads.entries += page.length;
      return page;
    },
  };
}

function expected(all: Entry[], lastSeq: number): Uint8Array {
  const session = { sessionId: 'session-1', customerName: 'joe', history: all.slice(0, lastSeq).map(toChatEntry) };
  return ChatCustomerResponse.encode({ resp: { $case: 'session', value: session } }).finish();
}

const live = new AbortController().signal;

describe('SnapshotEncoder', () => {
  test('its bytes are those ts-proto writes for the whole response, for customers and agents alike', async () => {
    await fc.assert(
      fc.asyncProperty(entries, async (drafts) => {
        const all = history(drafts);
        const encoder = new SnapshotEncoder(new SliceScheduler(), new EncodedHistoryCache(1 << 20));
        const bytes = await encoder.encode(snapshotOf(all, all.length, { entries: 0 }), live);
        expect(Buffer.from(bytes)).toEqual(Buffer.from(expected(all, all.length)));
        const session = ChatCustomerResponse.decode(bytes).resp;
        const accepted = ChatAgentResponse.decode(bytes).resp;
        expect(accepted?.$case === 'acceptedSession' && session?.$case === 'session' && accepted.value).toEqual(session?.value);
      }),
      { numRuns: 40 },
    );
  });

  test('a later join of a grown history reads only the new entries, and one of an older snapshot is still exact', async () => {
    const all = history(Array.from({ length: 1000 }, (_, i) => ({ author: { kind: 'customer' }, text: `m${i}`, ms: i })));
    const encoder = new SnapshotEncoder(new SliceScheduler(), new EncodedHistoryCache(1 << 20));
    const reads = { entries: 0 };
    await encoder.encode(snapshotOf(all, 600, reads), live);
    expect(reads.entries).toBe(600);
    expect(Buffer.from(await encoder.encode(snapshotOf(all, 1000, reads), live))).toEqual(Buffer.from(expected(all, 1000)));
    expect(reads.entries).toBe(1000); // 400 more, not 1000 again
    // A stream that joined before the last entries were committed gets exactly its own snapshot.
    expect(Buffer.from(await encoder.encode(snapshotOf(all, 700, reads), live))).toEqual(Buffer.from(expected(all, 700)));
  });

  test('a join of an unchanged session gets the very same reply, with nothing read, built or copied; the cache holds it once', async () => {
    const all = history(Array.from({ length: 500 }, (_, i) => ({ author: { kind: 'customer' }, text: `m${i}`, ms: i })));
    const cache = new EncodedHistoryCache(1 << 20);
    const encoder = new SnapshotEncoder(new SliceScheduler(), cache);
    const reads = { entries: 0 };
    const first = await encoder.encode(snapshotOf(all, 500, reads), live);
    const again = await encoder.encode(snapshotOf(all, 500, reads), live);
    expect(again).toBe(first);
    expect(reads.entries).toBe(500);
    expect(cache.size).toBeLessThan(first.length);
    expect(cache.size).toBeGreaterThan(first.length - 100);
  });

  test('an empty history is the session alone; a history that ends early is an error, not a short reply', async () => {
    const encoder = new SnapshotEncoder(new SliceScheduler(), new EncodedHistoryCache(1 << 20));
    expect(Buffer.from(await encoder.encode(snapshotOf([], 0, { entries: 0 }), live))).toEqual(Buffer.from(expected([], 0)));
    const short = history([{ author: { kind: 'customer' }, text: 'one', ms: 1 }]);
    await expect(encoder.encode(snapshotOf(short, 2, { entries: 0 }), live)).rejects.toThrow(/ends at 1, before 2/);
  });

  test('a stream that ends while its history is read stops reading and gets nothing', async () => {
    const all = history(Array.from({ length: 2000 }, (_, i) => ({ author: { kind: 'customer' }, text: `m${i}`, ms: i })));
    const controller = new AbortController();
    const reads = { entries: 0 };
    const encoding = new SnapshotEncoder(new SliceScheduler(), new EncodedHistoryCache(1 << 20)).encode(snapshotOf(all, 2000, reads), controller.signal);
    controller.abort();
    await expect(encoding).rejects.toMatchObject({ kind: 'aborted' });
    expect(reads.entries).toBeLessThan(2000);
  });
});

describe('EncodedHistoryCache', () => {
  test('forgets the least recently used sessions past its size, and nothing is kept of a chunk larger than it', () => {
    const cache = new EncodedHistoryCache(100_000);
    const chunk = (n: number) => new Uint8Array(n);
    cache.append('a', 0, 10, chunk(70_000));
    cache.append('b', 0, 10, chunk(20_000));
    expect(cache.prefix('a', 10).lastSeq).toBe(10); // a is now the most recently used
    cache.append('c', 0, 10, chunk(20_000));
    expect(cache.size).toBe(90_000); // b went: a and c are left
    expect(cache.prefix('b', 10)).toEqual({ chunks: [], lastSeq: 0 });
    cache.append('d', 0, 5, chunk(200_000));
    expect(cache.prefix('d', 5).lastSeq).toBe(0);
  });

  test('only appends what continues the cached entries', () => {
    const cache = new EncodedHistoryCache(1 << 20);
    cache.append('a', 0, 3, new Uint8Array([1, 2, 3]));
    cache.append('a', 5, 8, new Uint8Array([9])); // a gap: ignored
    cache.append('a', 3, 4, new Uint8Array([4]));
    expect(cache.prefix('a', 100)).toEqual({ chunks: [Buffer.from([1, 2, 3, 4])], lastSeq: 4 });
    cache.forget('a');
    expect(cache.size).toBe(0);
  });
});
