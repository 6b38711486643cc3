import { InProcessEventBus } from '../../src/bus/in-process-event-bus';
import type { SessionEvent } from '../../src/domain/event-bus';

const ended = (sessionId: string): SessionEvent => ({ kind: 'ended', sessionId, seq: 1 });

describe('InProcessEventBus', () => {
  test('a listener that throws is reported, and neither the publisher nor the later listeners notice', () => {
    const failures: unknown[] = [];
    const bus = new InProcessEventBus((error) => failures.push(error));
    const seen: string[] = [];
    bus.subscribe('s', () => seen.push('first'));
    bus.subscribe('s', () => {
      throw new Error('broken listener');
    });
    bus.subscribe('s', () => seen.push('third'));
    expect(() => bus.publish(ended('s'))).not.toThrow();
    bus.publish(ended('s'));
    expect(seen).toEqual(['first', 'third', 'first', 'third']);
    expect(failures).toEqual([new Error('broken listener'), new Error('broken listener')]);
  });

  test('events go to the subscribers of their session only, until they unsubscribe', () => {
    const bus = new InProcessEventBus(() => {});
    const seen: string[] = [];
    const unsubscribe = bus.subscribe('a', (event) => seen.push(`a got ${event.sessionId}`));
    bus.subscribe('b', (event) => seen.push(`b got ${event.sessionId}`));
    bus.publish(ended('a'));
    unsubscribe();
    unsubscribe();
    bus.publish(ended('a'));
    bus.publish(ended('b'));
    expect(seen).toEqual(['a got a', 'b got b']);
    expect(bus.subscribedSessionCount).toBe(1);
  });
});
