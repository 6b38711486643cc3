import type { Entry } from './entry';

/**
 * What happens in a session after commit. Both kinds carry a position in the session's sequence
 * (`ended` comes after the last entry), so a subscriber can join a history snapshot with live
 * events without a gap or a duplicate, whatever the bus's timing.
 */
export type SessionEvent =
  | Readonly<{ kind: 'entry'; sessionId: string; seq: number; entry: Entry; origin: StreamId }>
  | Readonly<{ kind: 'ended'; sessionId: string; seq: number }>;

/** Identifies one stream in this process, so a sender's own entries are not echoed to it. */
export type StreamId = number;

/** Carries committed events to the live streams of a session. Publishers publish only after commit. */
export interface EventBus {
  publish(event: SessionEvent): void;
  /** Calls `listener` for every event of `sessionId` from now on; returns an idempotent unsubscribe. */
  subscribe(sessionId: string, listener: (event: SessionEvent) => void): () => void;
}
