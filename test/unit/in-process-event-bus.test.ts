import { InProcessEventBus } from '../../src/bus/in-process-event-bus';
import type { SessionEvent } from '../../src/domain/event-bus';

const ended = (sessionId: string, seq = 1): SessionEvent => ({ kind: 'ended', sessionId, seq });

describe('InProcessEventBus', () => {
  test('a listener that throws is reported, and neither the publisher nor the later listeners notice', async () => {
    const failures: unknown[] = [];
    const bus = new InProcessEventBus((error) => failures.push(error));
    const seen: string[] = [];
    const subscriptions = await Promise.all([
      bus.subscribe('s', () => seen.push('first')),
      bus.subscribe('s', () => {
        throw new Error('broken listener');
      }),
      bus.subscribe('s', () => seen.push('third')),
    ]);
    subscriptions.forEach((s) => s.start(0));
    expect(() => bus.publish(ended('s'))).not.toThrow();
    expect(seen).toEqual(['first', 'third']);
    expect(failures).toEqual([new Error('broken listener')]);
  });

  test('events go to the subscribers of their session only, until they unsubscribe', async () => {
    const bus = new InProcessEventBus(() => {});
    const seen: string[] = [];
    const a = await bus.subscribe('a', (event) => seen.push(`a got ${event.sessionId}:${event.seq}`));
    const b = await bus.subscribe('b', (event) => seen.push(`b got ${event.sessionId}:${event.seq}`));
    a.start(0);
    b.start(0);
    bus.publish(ended('a', 1));
    a.unsubscribe();
    a.unsubscribe();
    bus.publish(ended('a', 2));
    bus.publish(ended('b', 1));
    expect(seen).toEqual(['a got a:1', 'b got b:1']);
    expect(bus.subscribedSessionCount).toBe(1);
  });
});
