import { status as Status, type Metadata, type StatusObject } from '@grpc/grpc-js';
import { Backoff, type BackoffOptions, type GiveUpOptions } from './backoff';
import { verdictOf, type CallVerdict } from './call-verdict';
import { ChatClientError } from './chat-client-error';
import type { ChatCall } from './chat-call';
import type { Attachment } from './chat-phase';
import type { ConnectionState } from './connection-state';

/** How an attachment's calls came to an end: what the chat does next. */
export type AttachmentEnd<Req, Res> =
  /** The chat moved on (left, ended, closed) while a call or a wait was in progress: nothing to do. */
  | Readonly<{ kind: 'superseded' }>
  /** Reconnecting failed until the give-up point. */
  | Readonly<{ kind: 'gave-up'; cause: ChatClientError }>
  /** The half-close of a graceful close was answered with `status`. */
  | Readonly<{ kind: 'detached'; status: StatusObject }>
  /** A call ended with a verdict other than "reconnect". */
  | Readonly<{ kind: 'settled'; verdict: Exclude<CallVerdict, { kind: 'retry' }>; call: ChatCall<Req, Res>; status: StatusObject }>;

/** What the loop needs from its chat. */
export type LoopHost<Req, Res> = Readonly<{
  backoff: BackoffOptions;
  giveUp: GiveUpOptions;
  leaveNeedsServer: boolean;
  /** The credentials give a fresh token for each call: a stream ended at its token's expiry may be resumed. */
  renewableToken: boolean;
  /** Whether `attachment` is still the chat's: once not, the loop stops without touching anything. */
  isCurrent: (attachment: Attachment<Req, Res>) => boolean;
  /** No session yet: this is the app's own start/resume/accept, not a reconnect. */
  isFirstJoin: () => boolean;
  metadata: () => Promise<Metadata>;
  /** Opens a call with the attachment's join request. */
  openCall: (attachment: Attachment<Req, Res>, metadata: Metadata) => ChatCall<Req, Res>;
  reportReconnecting: (state: Extract<ConnectionState, { kind: 'reconnecting' }>) => void;
  /** Drops the channel, so the next attempt gets a fresh connection, not one in grpc-js's own backoff. */
  freshConnection: () => void;
}>;

/** Joins, then keeps the session joined across breaks, until a call ends for good or the chat moves on. */
export async function keepAttached<Req, Res>(attachment: Attachment<Req, Res>, host: LoopHost<Req, Res>): Promise<AttachmentEnd<Req, Res>> {
  const superseded = { kind: 'superseded' } as const;
  let backoff: Backoff | undefined;
  let cause: ChatClientError | undefined;
  for (;;) {
    if (cause) {
      backoff ??= new Backoff(host.backoff, host.giveUp);
      const delayMs = backoff.next();
      if (delayMs === undefined) return { kind: 'gave-up', cause };
      host.reportReconnecting({ kind: 'reconnecting', attempt: backoff.attempt, delayMs, cause });
      await sleep(attachment, delayMs);
      if (!host.isCurrent(attachment)) return superseded;
    }
    const metadata = await host.metadata().catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
    if (!host.isCurrent(attachment)) return superseded;
    if (metadata instanceof Error) {
      // The app's token source failed (its identity provider may be down): try again later.
      cause = new ChatClientError(Status.UNAVAILABLE, `could not get a token: ${metadata.message}`);
      continue;
    }
    const call = (attachment.call = host.openCall(attachment, metadata));
    const status = await call.finished;
    if (attachment.call === call) attachment.call = undefined;
    if (!host.isCurrent(attachment)) return superseded;
    if (call.joined) backoff = undefined; // a new outage starts a new count
    if (call.halfClosed && attachment.detachItem) return { kind: 'detached', status };
    const verdict = verdictOf({
      code: status.code,
      joined: call.joined,
      firstJoin: host.isFirstJoin(),
      timedOut: call.timedOut,
      sessionEnded: call.sessionEnded,
      leaving: attachment.leaveItem !== undefined,
      halfClosed: call.halfClosed,
      leaveNeedsServer: host.leaveNeedsServer,
      writtenMessages: attachment.outbox.writtenMessageCount(),
      renewableToken: host.renewableToken,
    });
    if (verdict.kind !== 'retry') return { kind: 'settled', verdict, call, status };
    cause = call.timedOut ? new ChatClientError(Status.DEADLINE_EXCEEDED, 'the server did not answer in time') : ChatClientError.from(status);
    if (verdict.rejectHead) attachment.refusal = cause;
    host.freshConnection();
  }
}

/** Waits `ms`, or less if the attachment ends meanwhile (its `wake`). */
function sleep<Req, Res>(attachment: Attachment<Req, Res>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    attachment.wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });
}
