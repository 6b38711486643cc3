import type { ChatContext } from './chat-context';
import { ChatError } from './chat-error';
import type { SessionSnapshot } from './entry';
import type { SessionEvent } from './event-bus';
import type { StoredSession } from './session-store';

/** A stream's view of an open session: the snapshot to send first, then live events. */
export type LiveSession = Readonly<{
  snapshot: SessionSnapshot;
  /** Whether the session's end has already been published (it ended after the join was recorded). */
  endedMeanwhile: () => boolean;
  /** Starts delivering the events after the snapshot (call after sending the snapshot). */
  start: () => void;
  unsubscribe: () => void;
}>;

/**
 * Subscribes to `sessionId`, then records the join (`join`, a store write that returns the session
 * as of that moment), so that the events that follow the snapshot are delivered exactly once and
 * in order even while others commit entries meanwhile. Throws `failed-precondition` (subscribed to
 * nothing) if the session has ended.
 */
export async function openLiveSession(
  ctx: ChatContext,
  sessionId: string,
  onEvent: (event: SessionEvent) => void,
  join: () => Promise<StoredSession>,
): Promise<LiveSession> {
  const subscription = await ctx.bus.subscribe(sessionId, onEvent);
  try {
    const record = await join();
    if (record.state !== 'open') throw new ChatError('failed-precondition', 'the session has ended');
    const { customerId, lastSeq } = record;
    const readHistory = (afterSeq: number, limit: number) => ctx.store.readHistory(sessionId, afterSeq, lastSeq, limit);
    return {
      snapshot: { sessionId, customerId, lastSeq, readHistory },
      endedMeanwhile: () => subscription.endSeen,
      start: () => subscription.start(lastSeq),
      unsubscribe: () => subscription.unsubscribe(),
    };
  } catch (err) {
    subscription.unsubscribe();
    throw err;
  }
}
