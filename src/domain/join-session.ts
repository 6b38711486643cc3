import type { ChatContext, StreamPort } from './chat-context';
import { ChatError } from './chat-error';
import type { SessionEvent } from './event-bus';
import { openLiveSession } from './live-session';
import type { StoredSession } from './session-store';

/** What differs between a customer and an agent joining a session. */
export type SessionJoin = Readonly<{
  sessionId: string;
  onEvent: (event: SessionEvent) => void;
  /** Attaches the stream to the session, displacing the same user's previous stream there. */
  attach: () => Promise<void>;
  /** The store step that records the join; returns the session as of that moment. Runs once attached. */
  record: () => Promise<StoredSession>;
  /** Undoes `attach`: the join failed, or the stream ended before it was in the session. */
  detach: () => Promise<unknown>;
  /** Whether a session whose end was published after `record` is refused rather than joined (and its end then sent). */
  refuseEndedMeanwhile: boolean;
  /** The stream is in the session: sets its connection; returns how it leaves (if the snapshot cannot be sent). */
  enter: (unsubscribe: () => void) => () => Promise<unknown>;
}>;

/**
 * Joins one stream to a session, in the one order that keeps every event exactly once and the
 * races safe: subscribe to the session's events; attach the stream; record the join (which returns
 * the session as of then); send the snapshot; start the events that follow it. The stream is
 * attached before the join is recorded: the idle sweep, which ends only sessions without a
 * customer attached, either ended the session before a customer's read (which says so) or leaves
 * it open; a racing `leave` of the last other agent sees the new agent, and does not put the
 * session back in the queue.
 *
 * The stream's `signal` may fire at any await (its conversation is then closed meanwhile): before
 * `enter`, the join undoes itself and resolves; after, the conversation's close leaves the session.
 * A failed step undoes what the join did and rejects with its error.
 */
export async function joinSession(ctx: ChatContext, port: StreamPort<unknown>, join: SessionJoin): Promise<void> {
  const live = await openLiveSession(ctx, join.sessionId, join.onEvent, async () => {
    await join.attach();
    return join.record();
  }).catch(async (err: unknown) => {
    await join.detach();
    throw err;
  });
  const refused = join.refuseEndedMeanwhile && live.endedMeanwhile();
  if (port.signal.aborted || refused) {
    live.unsubscribe();
    await join.detach();
    if (port.signal.aborted) return;
    throw new ChatError('failed-precondition', 'the session has ended');
  }
  const leave = join.enter(live.unsubscribe);
  try {
    await port.pushSnapshot(live.snapshot);
  } catch (err) {
    await leave();
    throw err;
  }
  if (!port.signal.aborted) live.start(); // unless the stream ended while the snapshot was sent
}
