import type { EventBus, SessionEvent, Subscription } from '../domain/event-bus';
import { SessionSubscribers } from './session-subscribers';

/**
 * The event bus of a single server process: synchronous fan-out to the subscribers of a session,
 * in the order of publishing (which is the order of commit), so it has no gap to fill. A listener
 * that throws is isolated (session-subscribers.ts): neither the others nor the publisher, whose
 * entry is already committed, notice.
 */
export class InProcessEventBus implements EventBus {
  private readonly subscribers: SessionSubscribers;

  constructor(onListenerError: (error: unknown, sessionId: string) => void) {
    this.subscribers = new SessionSubscribers(onListenerError);
  }

  publish(event: SessionEvent): void {
    this.subscribers.offer(event);
  }

  async subscribe(sessionId: string, listener: (event: SessionEvent) => void): Promise<Subscription> {
    return this.subscribers.add(sessionId, listener);
  }

  /** Sessions with at least one subscriber (leak checks). */
  get subscribedSessionCount(): number {
    return this.subscribers.sessionCount;
  }
}
