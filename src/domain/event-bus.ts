import type { Entry } from './entry';

/**
 * What happens in a session after commit. Both kinds carry a position in the session's sequence
 * (`ended` comes after the last entry), so a subscriber can join a history snapshot with live
 * events without a gap or a duplicate, whatever the bus's timing.
 */
export type SessionEvent =
  | Readonly<{ kind: 'entry'; sessionId: string; seq: number; entry: Entry; origin: StreamId }>
  | Readonly<{ kind: 'ended'; sessionId: string; seq: number }>;

/**
 * Identifies one stream in the whole deployment (its instance and its number there), so that a
 * sender's own entries are not echoed to it, and a takeover can name the stream it displaces.
 */
export type StreamId = string;

/** One stream's subscription to a session's events. */
export interface Subscription {
  /**
   * Delivers every event after `afterSeq` (the last entry of the snapshot the stream sent)
   * exactly once and in order: first those kept since subscribing, then live ones.
   */
  start(afterSeq: number): void;
  /** Whether the session's end has been seen (delivered, or kept for `start`). */
  readonly endSeen: boolean;
  /** Stops delivery. Safe to call twice. */
  unsubscribe(): void;
}

/**
 * Carries committed events to the live streams of a session, on every instance that has some.
 * Publishers publish only after commit.
 */
export interface EventBus {
  publish(event: SessionEvent): void;
  /**
   * Subscribes `listener` to the session's events. Once it resolves, every event committed from
   * then on is kept until `start`, so a snapshot read afterwards joins the live events without a
   * gap; a bus whose notifications may be lost fills gaps from the store. Rejects (`unavailable`)
   * when the bus cannot promise that now.
   */
  subscribe(sessionId: string, listener: (event: SessionEvent) => void): Promise<Subscription>;
}
