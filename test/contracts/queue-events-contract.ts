import type { QueueEvent, QueueEvents } from '../../src/domain/queue-events';
import { waitFor } from '../helpers/wait';

/** The queue's events under test: one per instance (one only for a single process). */
export type QueueEventsUnderTest = Readonly<{
  instances: QueueEvents[];
  /** Cuts instance `i` off the others for a moment and waits until it is back (deployments of several instances only). */
  cutOff?: (i: number) => Promise<void>;
  close: () => Promise<void>;
}>;

type Seen = { events: string[]; missed: number; stop: () => void };

const event = (kind: QueueEvent['kind'], sessionId: string, at = 1_700_000_000_123): QueueEvent => ({ kind, sessionId, customerId: `customer of ${sessionId}`, at: new Date(at) });
const described = (e: QueueEvent) => `${e.kind} ${e.sessionId} ${e.customerId} ${e.at.toISOString()}`;

/**
 * The contract of the queue events port (src/domain/queue-events.ts), run against every
 * implementation: every event published after a watch started, on any instance, reaches it once;
 * each instance's events in the order it published them; a failing watcher harms no one else;
 * where instances can be cut off, their watchers learn that events may have been missed.
 */
export function describeQueueEventsContract(name: string, make: () => Promise<QueueEventsUnderTest>): void {
  describe(`${name}: the queue events port`, () => {
    let sut: QueueEventsUnderTest;
    let watches: Seen[] = [];
    beforeEach(async () => {
      sut = await make();
    });
    afterEach(async () => {
      watches.forEach((w) => w.stop());
      watches = [];
      await sut.close();
    });

    async function watcher(i: number): Promise<Seen> {
      const seen: Seen = { events: [], missed: 0, stop: () => {} };
      seen.stop = await sut.instances[i]!.watch({ onEvent: (e) => seen.events.push(described(e)), onMissed: () => seen.missed++ });
      watches.push(seen);
      return seen;
    }
    const last = () => sut.instances.length - 1;

    test("every watch, on every instance, sees each event published after it started once, each instance's in their order", async () => {
      const first = sut.instances[0]!;
      // Before the watch on its instance: never seen there (elsewhere it may still be on its way).
      first.publish(event('waiting', 'before'));
      const watchers = await Promise.all(sut.instances.map((_, i) => watcher(i)));
      const fromFirst = [event('waiting', 'a'), event('taken', 'a', 1_700_000_000_200), event('ended', 'a', 1_700_000_000_300)];
      const fromLast = [event('waiting', 'b'), event('taken', 'b'), event('waiting', 'b'), event('ended', 'b')];
      for (let k = 0; k < fromLast.length; k++) {
        if (fromFirst[k]) first.publish(fromFirst[k]!);
        sut.instances[last()]!.publish(fromLast[k]!);
      }
      const total = fromFirst.length + fromLast.length;
      await waitFor(() => watchers.every((w) => w.events.length >= total), 5000, `every event at every watcher: ${JSON.stringify(watchers.map((w) => w.events))}`);
      for (const w of watchers) {
        expect(w.events.filter((e) => e.includes(' a '))).toEqual(fromFirst.map(described));
        expect(w.events.filter((e) => e.includes(' b '))).toEqual(fromLast.map(described));
        expect(w.events.filter((e) => !e.includes(' before '))).toHaveLength(total);
        expect(w.missed).toBe(0);
      }
      expect(watchers[0]!.events).toHaveLength(total);
    });

    test('a stopped watch gets nothing more; stopping twice is harmless', async () => {
      const stopped = await watcher(0);
      const going = await watcher(0);
      stopped.stop();
      stopped.stop();
      sut.instances[last()]!.publish(event('waiting', 'c'));
      sut.instances[last()]!.publish(event('ended', 'c'));
      await waitFor(() => going.events.length === 2, 5000, 'the events at the watch still going');
      expect(stopped.events).toEqual([]);
    });

    test('a watcher that throws keeps neither the publisher nor the other watchers from their events', async () => {
      await sut.instances[0]!.watch({
        onEvent: () => {
          throw new Error('a broken watcher');
        },
        onMissed: () => {},
      });
      const healthy = await watcher(0);
      expect(() => sut.instances[0]!.publish(event('waiting', 'd'))).not.toThrow();
      sut.instances[last()]!.publish(event('taken', 'd'));
      await waitFor(() => healthy.events.length === 2, 5000, 'both events at the healthy watcher');
    });

    test('when an instance was cut off from the others, its watches are told that events may have been missed', async () => {
      if (!sut.cutOff) return expect(sut.instances).toHaveLength(1); // one process: nothing to be cut off from
      const cut = await watcher(0);
      const other = await watcher(last());
      await sut.cutOff(0);
      await waitFor(() => cut.missed === 1, 5000, 'the cut-off watch to be told');
      expect(other.missed).toBe(0);
      // And it receives again.
      sut.instances[last()]!.publish(event('waiting', 'e'));
      await waitFor(() => cut.events.length === 1, 5000, 'an event after the reconnection');
    });
  });
}
