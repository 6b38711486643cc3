import type { ListPosition } from '../../src/domain/session-administration';
import type { SessionRange, SessionRanges } from '../../src/domain/session-ranges';
import type { SessionStore } from '../../src/domain/session-store';
import { at } from './session-store-contract';

/** Session ranges under test, and the store whose database they read. */
export type SessionRangesUnderTest = Readonly<{ store: SessionStore; ranges: SessionRanges; close: () => Promise<void> }>;

/**
 * The contract of the session ranges port (src/domain/session-ranges.ts), run against every
 * implementation: `make` gives a store and its ranges on a fresh database for each test.
 */
export function describeSessionRangesContract(name: string, make: () => Promise<SessionRangesUnderTest>): void {
  describe(`${name}: the session ranges port`, () => {
    let sut: SessionRangesUnderTest;
    beforeEach(async () => {
      sut = await make();
    });
    afterEach(() => sut.close());

    /** Every session of `range`, read `limit` at a time: ids, and how many pages it took. */
    async function readAll(range: SessionRange, limit = 100): Promise<{ ids: string[]; pages: number }> {
      const ids: string[] = [];
      let after: ListPosition | undefined;
      let pages = 0;
      do {
        const page = await sut.ranges.sessionsInRange(range, limit, after);
        pages++;
        ids.push(...page.sessions.map((s) => s.id));
        after = page.next;
      } while (after);
      return { ids, pages };
    }

    /** Creates sessions `id` at `ms` in this order. */
    async function create(...sessions: [id: string, ms: number][]): Promise<void> {
      for (const [id, ms] of sessions) await sut.store.createSession(id, `customer-${id}`, at(ms), 100);
    }

    test('a range of creation: oldest first, ties in the order of creation; the start inclusive, the end exclusive, an unset bound open', async () => {
      await create(['e', 5000], ['a', 1000], ['c1', 3000], ['c2', 3000], ['b', 2000], ['d', 4000]);
      expect((await readAll({ by: 'created', start: at(2000), end: at(4000) })).ids).toEqual(['b', 'c1', 'c2']);
      expect((await readAll({ by: 'created', start: at(3000) })).ids).toEqual(['c1', 'c2', 'd', 'e']);
      expect((await readAll({ by: 'created', end: at(3000) })).ids).toEqual(['a', 'b']);
      expect((await readAll({ by: 'created' })).ids).toEqual(['a', 'b', 'c1', 'c2', 'd', 'e']);
      expect(await sut.ranges.sessionsInRange({ by: 'created', start: at(6000) }, 10, undefined)).toEqual({ sessions: [], next: undefined });
    });

    test('pages: each session once, in order, however small the pages; a summary says what the session is', async () => {
      const sessions: [string, number][] = Array.from({ length: 25 }, (_, i) => [`s${String(i).padStart(2, '0')}`, 1000 + Math.floor(i / 3) * 10]);
      await create(...sessions);
      const all = sessions.map(([id]) => id);
      for (const limit of [1, 2, 7, 25, 100]) {
        const { ids, pages } = await readAll({ by: 'created' }, limit);
        expect(ids).toEqual(all);
        expect(pages).toBe(Math.max(1, Math.ceil(25 / limit)));
      }
      await sut.store.appendEntry('s00', { author: { kind: 'customer' }, text: 'hi', origin: 'x.1', encodedSize: () => 10 }, at(1500), { maxBytes: 1e9, maxEntries: 1e9 });
      await sut.store.endSession('s00', at(2000));
      const [first] = (await sut.ranges.sessionsInRange({ by: 'created' }, 1, undefined)).sessions;
      expect(first).toMatchObject({ id: 's00', customerId: 'customer-s00', state: 'ended', createdAt: at(1000), endedAt: at(2000), entryCount: 1 });
    });

    test('a range of ends: only sessions that ended in it, oldest (by creation) first; open ones never', async () => {
      await create(['a', 1000], ['b', 2000], ['c', 3000], ['d', 4000], ['open', 500]);
      await sut.store.endSession('c', at(5000));
      await sut.store.endSession('a', at(6000));
      await sut.store.endSession('b', at(9000));
      await sut.store.endSession('d', at(7000));
      expect((await readAll({ by: 'ended', start: at(5000), end: at(9000) }, 1)).ids).toEqual(['a', 'c', 'd']);
      expect((await readAll({ by: 'ended' })).ids).toEqual(['a', 'b', 'c', 'd']);
      expect((await readAll({ by: 'ended', end: at(5000) })).ids).toEqual([]);
    });
  });
}
