import type { EventBus, SessionEvent } from '../domain/event-bus';

/** The event bus of a single server process: synchronous fan-out to the subscribers of a session. */
export class InProcessEventBus implements EventBus {
  private readonly listeners = new Map<string, Set<(event: SessionEvent) => void>>();

  publish(event: SessionEvent): void {
    const listeners = this.listeners.get(event.sessionId);
    if (!listeners) return;
    // A listener may unsubscribe (itself or others) while we deliver: iterate over a copy.
    for (const listener of [...listeners]) listener(event);
  }

  subscribe(sessionId: string, listener: (event: SessionEvent) => void): () => void {
    // Wrap, so that the same function subscribed twice is two subscriptions.
    const subscription = (event: SessionEvent) => listener(event);
    let set = this.listeners.get(sessionId);
    if (!set) this.listeners.set(sessionId, (set = new Set()));
    set.add(subscription);
    return () => {
      const current = this.listeners.get(sessionId);
      if (!current?.delete(subscription)) return;
      if (current.size === 0) this.listeners.delete(sessionId);
    };
  }

  /** Sessions with at least one subscriber (for leak checks in tests and metrics). */
  get subscribedSessionCount(): number {
    return this.listeners.size;
  }
}
