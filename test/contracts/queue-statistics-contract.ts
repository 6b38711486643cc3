import type { QueueStatisticsSource } from '../../src/domain/queue-statistics';
import type { SessionStore } from '../../src/domain/session-store';
import { at } from './session-store-contract';

/** Queue statistics under test, and the store whose database they read. */
export type QueueStatisticsUnderTest = Readonly<{ store: SessionStore; statistics: QueueStatisticsSource; close: () => Promise<void> }>;

/**
 * The contract of the queue statistics port (src/domain/queue-statistics.ts), run against every
 * implementation: `make` gives a store and its statistics on a fresh database for each test.
 */
export function describeQueueStatisticsContract(name: string, make: () => Promise<QueueStatisticsUnderTest>): void {
  describe(`${name}: the queue statistics port`, () => {
    let sut: QueueStatisticsUnderTest;
    beforeEach(async () => {
      sut = await make();
    });
    afterEach(() => sut.close());

    test('an empty database has an empty queue', async () => {
      expect(await sut.statistics.queueStatistics()).toEqual({ awaitingCount: 0, oldestAwaitingSince: undefined, attendedCount: 0 });
    });

    test('counts follow sessions created, taken, ended, and put back in the queue', async () => {
      const { store, statistics } = sut;
      await store.createSession('a', 'ann', at(1000), 10);
      await store.createSession('b', 'bob', at(2000), 10);
      await store.createSession('c', 'cid', at(3000), 10);
      expect(await statistics.queueStatistics()).toEqual({ awaitingCount: 3, oldestAwaitingSince: at(1000), attendedCount: 0 });

      expect(await store.takeNextAwaiting()).toBe('a');
      expect(await statistics.queueStatistics()).toEqual({ awaitingCount: 2, oldestAwaitingSince: at(2000), attendedCount: 1 });

      await store.endSession('b', at(4000));
      expect(await statistics.queueStatistics()).toEqual({ awaitingCount: 1, oldestAwaitingSince: at(3000), attendedCount: 1 });

      await store.markAttended('c');
      expect(await statistics.queueStatistics()).toEqual({ awaitingCount: 0, oldestAwaitingSince: undefined, attendedCount: 2 });

      await store.endSession('a', at(5000));
      await store.markAwaiting('c', at(6000));
      expect(await statistics.queueStatistics()).toEqual({ awaitingCount: 1, oldestAwaitingSince: at(6000), attendedCount: 0 });
    });
  });
}
