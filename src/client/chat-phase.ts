import type { ChatClientError } from './chat-client-error';
import type { ChatCall } from './chat-call';
import type { CloseReason } from './connection-state';
import type { Deferred } from './deferred';
import type { HistoryCursor } from './history-sync';
import { Outbox, type Outgoing } from './outbox';

/** The session a chat joined. */
export type SessionInfo = Readonly<{ sessionId: string; customerName: string }>;

/**
 * One stay in a session, from `join()` until the session is left, ends, or the chat closes: what
 * every call of that stay shares. Its reconnect loop runs while it is the chat's current
 * attachment; once the chat moved on (idle, closed, another join), a call of it that wakes up
 * finds it is not, and does nothing.
 */
export class Attachment<Req, Res> {
  /** What the app asked to send, queued or written and not yet known to have arrived. */
  readonly outbox = new Outbox();
  /** The app asked to hang up / leave. */
  leaveItem: Outgoing | undefined;
  /** The app asked to close gracefully: the half-close that ends the stream once all was sent. */
  detachItem: Outgoing | undefined;
  /** The server refused a message; the first one not found in the next history is that one. */
  refusal: ChatClientError | undefined;
  /** The call in progress, if any. */
  call: ChatCall<Req, Res> | undefined;
  /** Ends the loop's backoff sleep early, when the attachment ends while it waits. */
  wake: (() => void) | undefined;

  /** `target`: the session id the app asked to join, or '' for a new session / the queue's next. */
  constructor(readonly target: string) {}
}

/**
 * What a chat is doing; each phase holds what only it needs. `joining` and `in-session` share
 * their attachment: the first join reply moves one to the other, and reconnects stay in-session.
 */
export type ChatPhase<Req, Res> =
  /** No session: before the first join, or after a leave, a hang-up or the session's end. */
  | Readonly<{ kind: 'idle' }>
  /** Joining a session for the first time; `joined` settles the app's start/resume/accept. */
  | Readonly<{ kind: 'joining'; attachment: Attachment<Req, Res>; joined: Deferred<SessionInfo> }>
  /** In a session, connected or reconnecting; `cursor`: what the app has seen of its history. */
  | Readonly<{ kind: 'in-session'; attachment: Attachment<Req, Res>; session: SessionInfo; cursor: HistoryCursor }>
  /** Stopped for good; `session`: the one it was in, if any. */
  | Readonly<{ kind: 'closed'; reason: CloseReason; session: SessionInfo | undefined }>;

/** The attachment of a phase that has one. */
export function attachmentOf<Req, Res>(phase: ChatPhase<Req, Res>): Attachment<Req, Res> | undefined {
  return phase.kind === 'joining' || phase.kind === 'in-session' ? phase.attachment : undefined;
}

/**
 * Ends the phase's attachment, if it has one: everything the app still waits for in it fails with
 * `error`, and its loop wakes from a backoff sleep to find it is over. Returns the texts of the
 * messages lost: written but unconfirmed, and never written.
 */
export function endAttachment<Req, Res>(phase: ChatPhase<Req, Res>, error: ChatClientError): { unconfirmed: string[]; unsent: string[] } {
  if (phase.kind === 'joining') phase.joined.reject(error);
  const attachment = attachmentOf(phase);
  if (!attachment) return { unconfirmed: [], unsent: [] };
  const lost = attachment.outbox.failAll(error);
  attachment.leaveItem?.reject(error);
  attachment.wake?.();
  return lost;
}
