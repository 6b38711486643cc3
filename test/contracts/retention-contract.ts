import { deleteEndedSessions, type RetentionBatch, type RetentionStore } from '../../src/domain/retention';
import type { SessionStore } from '../../src/domain/session-store';
import { at, draft, readSession } from './session-store-contract';

/** A retention store under test, and the session store of the same database. */
export type RetentionUnderTest = Readonly<{ store: SessionStore; retention: RetentionStore; close: () => Promise<void> }>;

const BIG = { maxBytes: 1 << 30, maxEntries: 1 << 30 };

/**
 * The contract of the retention port (src/domain/retention.ts), run against every implementation:
 * `make` gives a store and its retention on a fresh database for each test. The clock is the
 * dates given to the store: "days later" is a cutoff, never a wait.
 */
export function describeRetentionContract(name: string, make: () => Promise<RetentionUnderTest>): void {
  describe(`${name}: the retention port`, () => {
    let sut: RetentionUnderTest;
    beforeEach(async () => {
      sut = await make();
    });
    afterEach(() => sut.close());

    /** Sessions: `old` (7 entries) and `empty` ended at 1 s, `recent` (3 entries) ended at 5 s, `open` (2 entries) never ended. */
    async function sessionsOfAllAges(): Promise<void> {
      const { store } = sut;
      for (const [id, count] of [['old', 7], ['empty', 0], ['recent', 3], ['open', 2]] as const) {
        await store.createSession(id, `customer-${id}`, at(0), 10);
        for (let i = 0; i < count; i++) await store.appendEntry(id, draft(`${id} ${i}`), at(100 + i), BIG);
      }
      await store.endSession('old', at(1000));
      await store.endSession('empty', at(1000));
      await store.endSession('recent', at(5000));
    }

    const historyLength = async (id: string) => (await readSession(sut.store, id))?.history.length;

    test('a pass deletes the sessions ended at or before the cutoff with their entries, in batches of at most the rows asked, and nothing else', async () => {
      await sessionsOfAllAges();
      const batches: RetentionBatch[] = [];
      const totals = await deleteEndedSessions(sut.retention, at(1000), { batchRows: 3, pauseMs: 0 }, (batch) => batches.push(batch));
      expect(totals).toEqual({ sessions: 2, entries: 7 });
      expect(batches.length).toBeGreaterThanOrEqual(3);
      for (const batch of batches) expect(batch.sessions + batch.entries).toBeLessThanOrEqual(3);
      expect(await sut.store.findSession('old')).toBeUndefined();
      expect(await sut.store.findSession('empty')).toBeUndefined();
      expect(await sut.store.readHistory('old', 0, 100, 100)).toEqual([]);
      expect([await historyLength('recent'), await historyLength('open')]).toEqual([3, 2]);
    });

    test('a second pass finds nothing; a later cutoff takes the sessions that ended since; open sessions stay, however old', async () => {
      await sessionsOfAllAges();
      const pace = { batchRows: 500, pauseMs: 0 };
      await deleteEndedSessions(sut.retention, at(1000), pace, () => {});
      expect(await deleteEndedSessions(sut.retention, at(1000), pace, () => {})).toEqual({ sessions: 0, entries: 0 });
      expect(await deleteEndedSessions(sut.retention, at(1_000_000), pace, () => {})).toEqual({ sessions: 1, entries: 3 });
      expect(await sut.store.findSession('recent')).toBeUndefined();
      expect(await sut.store.findSession('open')).toMatchObject({ state: 'open', lastSeq: 2 });
    });

    test('live writes go on while a pass deletes: every one commits, in order', async () => {
      await sessionsOfAllAges();
      const bulk = Array.from({ length: 20 }, (_, s) => `bulk-${s}`);
      await Promise.all(bulk.map((id) => sut.store.createSession(id, `customer-${id}`, at(0), 10)));
      await Promise.all(bulk.flatMap((id) => Array.from({ length: 10 }, (_, i) => sut.store.appendEntry(id, draft(`bulk ${i}`), at(100), BIG))));
      await Promise.all(bulk.map((id) => sut.store.endSession(id, at(1000))));
      const pass = deleteEndedSessions(sut.retention, at(1000), { batchRows: 7, pauseMs: 0 }, () => {});
      const live = Array.from({ length: 50 }, (_, i) => sut.store.appendEntry('open', draft(`live ${i}`), at(2000), BIG).then((e) => e.seq));
      expect(await pass).toEqual({ sessions: 22, entries: 207 });
      expect(await Promise.all(live)).toEqual(Array.from({ length: 50 }, (_, i) => i + 3));
    });

    test('a pass that is stopped ends after its current batch', async () => {
      await sessionsOfAllAges();
      let batches = 0;
      const totals = await deleteEndedSessions(sut.retention, at(1000), { batchRows: 2, pauseMs: 0 }, () => batches++, () => batches >= 1);
      expect(totals.entries + totals.sessions).toBe(2);
      expect(await historyLength('old')).toBe(5);
    });
  });
}
