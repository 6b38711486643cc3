import type { EventBus, SessionEvent, Subscription } from '../../src/domain/event-bus';
import { waitFor } from '../helpers/wait';

/** A bus under test: one per instance (one only for a bus of one process), and the store it fills gaps from. */
export type BusUnderTest = Readonly<{
  instances: EventBus[];
  /** Creates a session to publish events of. */
  createSession: (sessionId: string) => Promise<void>;
  /** Commits an entry (where the bus can read it back) and returns its event, not yet published. */
  commitEntry: (sessionId: string, text: string, origin: string) => Promise<SessionEvent>;
  /** Ends the session and returns its event, not yet published. */
  commitEnd: (sessionId: string) => Promise<SessionEvent>;
  close: () => Promise<void>;
}>;

/** What a subscriber received, described. */
const described = (event: SessionEvent) =>
  event.kind === 'ended' ? `${event.seq} ended` : `${event.seq} ${event.entry.text} from ${event.origin} at ${event.entry.date.getTime()}`;

/**
 * The contract of the event bus port (src/domain/event-bus.ts), run against every implementation:
 * exactly once, in order, after the snapshot a subscriber starts from; on a bus shared by
 * instances, across instances too, even when a notification is lost (the publisher died between
 * commit and publish): the gap is filled from the store.
 */
export function describeEventBusContract(name: string, make: () => Promise<BusUnderTest>): void {
  describe(`${name}: the event bus port`, () => {
    let sut: BusUnderTest;
    let subscriptions: Subscription[] = [];
    beforeEach(async () => {
      sut = await make();
    });
    afterEach(async () => {
      subscriptions.forEach((s) => s.unsubscribe());
      subscriptions = [];
      await sut.close();
    });

    /** Subscribes on instance `i`; returns what it receives. */
    async function subscriber(i: number, sessionId: string): Promise<{ seen: string[]; events: SessionEvent[]; subscription: Subscription }> {
      const events: SessionEvent[] = [];
      const subscription = await sut.instances[i]!.subscribe(sessionId, (event) => events.push(event));
      subscriptions.push(subscription);
      return {
        events,
        subscription,
        get seen() {
          return events.map(described);
        },
      };
    }

    test('a subscription delivers the events after the snapshot it starts from, kept since it subscribed, then live ones, each once and in order', async () => {
      await sut.createSession('s');
      const before = await sut.commitEntry('s', 'before', 'i.1');
      const sub = await subscriber(0, 's');
      const inSnapshot = await sut.commitEntry('s', 'in the snapshot', 'i.1');
      const afterIt = await sut.commitEntry('s', 'after the snapshot', 'i.1');
      for (const event of [before, inSnapshot, afterIt]) sut.instances[0]!.publish(event);
      sut.instances[0]!.publish(afterIt); // published twice: still delivered once
      expect(sub.events).toEqual([]); // nothing before start
      sub.subscription.start(inSnapshot.seq);
      const live = await sut.commitEntry('s', 'live', 'i.2');
      sut.instances[0]!.publish(live);
      await waitFor(() => sub.events.length >= 2, 5000, 'the events after the snapshot');
      expect(sub.seen).toEqual([described(afterIt), described(live)]);
    });

    test("the session's end is seen and delivered after its last entry; unsubscribing stops delivery, twice is harmless", async () => {
      await sut.createSession('s');
      const sub = await subscriber(0, 's');
      const other = await subscriber(0, 's');
      sub.subscription.start(0);
      other.subscription.start(0);
      const entry = await sut.commitEntry('s', 'one', 'i.1');
      sut.instances[0]!.publish(entry);
      other.subscription.unsubscribe();
      other.subscription.unsubscribe();
      const end = await sut.commitEnd('s');
      sut.instances[0]!.publish(end);
      await waitFor(() => sub.events.length >= 2, 5000, 'the end');
      expect(sub.seen).toEqual([described(entry), '2 ended']);
      expect(sub.subscription.endSeen).toBe(true);
      expect(other.seen).toEqual([described(entry)]);
    });

    test('a listener that throws does not keep the event from the others, nor fail the publisher', async () => {
      await sut.createSession('s');
      const broken = await sut.instances[0]!.subscribe('s', () => {
        throw new Error('broken listener');
      });
      subscriptions.push(broken);
      broken.start(0);
      const sub = await subscriber(0, 's');
      sub.subscription.start(0);
      const entry = await sut.commitEntry('s', 'one', 'i.1');
      expect(() => sut.instances[0]!.publish(entry)).not.toThrow();
      await waitFor(() => sub.events.length >= 1, 5000, 'the event');
      expect(sub.seen).toEqual([described(entry)]);
    });

    describe('shared by instances', () => {
      const shared = (body: () => Promise<void>) => async () => {
        if (sut.instances.length < 2) return; // a bus of one process
        await body();
      };

      test(
        'events published on either instance reach the subscribers of both, each once, in one order, with their origin, text and date',
        shared(async () => {
          await sut.createSession('s');
          const subs = [await subscriber(0, 's'), await subscriber(1, 's')];
          subs.forEach((s) => s.subscription.start(0));
          const published: SessionEvent[] = [];
          for (let i = 0; i < 300; i++) {
            const from = i % 2;
            const event = await sut.commitEntry('s', `m${i} ${'x'.repeat(i % 7 === 0 ? 8500 : 10)}`, `instance-${from}.${i}`);
            sut.instances[from]!.publish(event);
            published.push(event);
          }
          for (const sub of subs) await waitFor(() => sub.events.length >= 300, 10_000, 'every event on every instance');
          for (const sub of subs) expect(sub.seen).toEqual(published.map(described));
        }),
      );

      test(
        'entries and an end committed but never published (their publisher died) still reach the other instance, in order, with their origin',
        shared(async () => {
          await sut.createSession('s');
          const sub = await subscriber(1, 's');
          sub.subscription.start(0);
          const lost = [await sut.commitEntry('s', 'lost one', 'dead.1'), await sut.commitEntry('s', 'lost two', 'dead.2')];
          const later = await sut.commitEntry('s', 'published', 'instance-0.3');
          sut.instances[0]!.publish(later); // ahead of the two lost ones: a gap
          await waitFor(() => sub.events.length >= 3, 10_000, 'the gap to be filled');
          const end = await sut.commitEnd('s'); // never published either
          await waitFor(() => sub.events.length >= 4, 10_000, 'the lost end to be found');
          expect(sub.seen).toEqual([...lost, later, end].map(described));
        }),
      );
    });
  });
}
