import type { ChatContext } from './chat-context';
import type { SessionSnapshot } from './entry';
import type { SessionEvent } from './event-bus';
import { SequencedDelivery } from './sequenced-delivery';

/** A stream's view of an open session: the snapshot to send first, then live events. */
export type LiveSession = Readonly<{
  snapshot: SessionSnapshot;
  /** Starts delivering the events after the snapshot (call after sending the snapshot). */
  start: () => void;
  unsubscribe: () => void;
}>;

/**
 * Subscribes to `sessionId`, then reads it, so that the events that follow the snapshot are
 * delivered exactly once and in order even while others commit entries meanwhile.
 * Returns undefined (subscribed to nothing) if the session is gone or has ended.
 */
export async function openLiveSession(
  ctx: ChatContext,
  sessionId: string,
  onEvent: (event: SessionEvent) => void,
): Promise<LiveSession | undefined> {
  const delivery = new SequencedDelivery(onEvent);
  const unsubscribe = ctx.bus.subscribe(sessionId, (event) => delivery.offer(event));
  const read = await ctx.store.readSession(sessionId).catch((err: unknown) => {
    unsubscribe();
    throw err;
  });
  if (!read || read.session.state !== 'open') {
    unsubscribe();
    return undefined;
  }
  const snapshot = { sessionId, customerId: read.session.customerId, history: read.history };
  return { snapshot, unsubscribe, start: () => delivery.start(read.session.lastSeq) };
}
