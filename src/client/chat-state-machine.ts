import type { EventEmitter } from 'node:events';
import { status as Status, type StatusObject } from '@grpc/grpc-js';
import type { AttachmentEnd } from './attachment-loop';
import { ChatClientError } from './chat-client-error';
import type { ChatEvents } from './chat-events';
import { Attachment, attachmentOf, endAttachment, type ChatPhase, type SessionInfo } from './chat-phase';
import type { CloseReason, CloseReasonKind, ConnectionState } from './connection-state';
import { Deferred } from './deferred';
import { sessionOverError } from './outbox';

/**
 * A chat's phase and every change of it: joining, entering the session, the end of a session's
 * stay (left, ended, refused) and closing for good, each reported to the app as it happens.
 */
export class ChatStateMachine<Req, Res> {
  private current: ChatPhase<Req, Res> = { kind: 'idle' };
  /** The state last reported to the app. */
  private reported: ConnectionState = { kind: 'idle' };

  constructor(
    private readonly events: EventEmitter<ChatEvents>,
    /** Whether leaving needs the server's answer (a customer's hang-up; see ChatProtocol). */
    private readonly leaveNeedsServer: boolean,
    /** Called once, on closing: the chat lets go of its connection. */
    private readonly onClosed: () => void,
  ) {}

  get phase(): ChatPhase<Req, Res> {
    return this.current;
  }

  get state(): ConnectionState {
    return this.reported;
  }

  /** Whether `attachment` is still the chat's: a loop or call of an earlier one does nothing. */
  isCurrent(attachment: Attachment<Req, Res>): boolean {
    return attachmentOf(this.current) === attachment;
  }

  /** Idle → joining `target` (a session id, or '' for a new one / the queue's next). */
  startJoining(target: string): { attachment: Attachment<Req, Res>; joined: Promise<SessionInfo> } {
    const attachment = new Attachment<Req, Res>(target);
    const joined = new Deferred<SessionInfo>();
    this.current = { kind: 'joining', attachment, joined };
    this.report({ kind: 'connecting' });
    return { attachment, joined: joined.promise };
  }

  /** Joining → in the session, at the first join reply. */
  enterSession(phase: Extract<ChatPhase<Req, Res>, { kind: 'in-session' }>): void {
    this.current = phase;
  }

  report(state: ConnectionState): void {
    this.reported = state;
    this.events.emit('state', state);
  }

  /** What the end of an attachment's calls means for the chat, if it is still the chat's. */
  onAttachmentEnd(attachment: Attachment<Req, Res>, end: AttachmentEnd<Req, Res>): void {
    if (end.kind === 'superseded' || !this.isCurrent(attachment)) return;
    if (end.kind === 'gave-up') return this.shutDown('gave-up', end.cause);
    if (end.kind === 'detached') return this.finishDetach(attachment, end.status);
    const { verdict, call, status } = end;
    const error = ChatClientError.from(status);
    if (verdict.kind === 'fatal') return this.shutDown(verdict.reason, error);
    if (verdict.kind === 'join-refused') {
      if (this.current.kind === 'joining') this.current.joined.reject(error);
      return this.goIdle(`the server refused to join: ${error.message}`);
    }
    if (verdict.kind === 'session-gone') return this.endSession(verdict.reason, attachment.leaveItem !== undefined);
    // done: the app left. A half-close answered with OK means the server handled every request.
    if (call.halfClosed && status.code === Status.OK) attachment.outbox.confirmWritten();
    if (this.leaveNeedsServer) return this.endSession('ended', true);
    attachment.leaveItem?.resolve(undefined);
    this.goIdle('the agent left the session');
  }

  /** The session is over for this chat: tell the app, and go idle. `hungUp`: by this customer's hang-up. */
  endSession(reason: 'ended' | 'not-found', hungUp: boolean): void {
    const sessionId = this.current.kind === 'in-session' ? this.current.session.sessionId : undefined;
    const attachment = attachmentOf(this.current);
    if (hungUp) {
      // The hang-up was handled, so was everything written before it.
      attachment?.outbox.confirmWritten();
      attachment?.leaveItem?.resolve(undefined);
    }
    this.goIdle('the session ended');
    if (sessionId) this.events.emit('sessionEnded', { sessionId, reason: hungUp ? 'hung-up' : reason });
  }

  /** Out of the session; what the app still waited for in it fails with `why`. */
  goIdle(why: string): void {
    const phase = this.current;
    this.current = { kind: 'idle' };
    endAttachment(phase, sessionOverError(why));
    this.report({ kind: 'idle' });
  }

  /** Stops for good (once): pending messages fail, the call is cancelled, the reason lists what was lost. */
  shutDown(kind: CloseReasonKind, error: ChatClientError | undefined): void {
    const phase = this.current;
    if (phase.kind === 'closed') return;
    const failure = new ChatClientError(error?.code ?? Status.CANCELLED, `the chat closed (${kind})${error ? `: ${error.message}` : ''}`);
    const reason: CloseReason = { kind, error, ...endAttachment(phase, failure) };
    this.current = { kind: 'closed', reason, session: phase.kind === 'in-session' ? phase.session : undefined };
    attachmentOf(phase)?.call?.cancel();
    this.onClosed();
    this.report({ kind: 'closed', reason });
  }

  /** The half-close of `closeGracefully` was answered: with OK, everything written arrived. */
  private finishDetach(attachment: Attachment<Req, Res>, status: StatusObject): void {
    if (status.code === Status.OK) attachment.outbox.confirmWritten();
    attachment.detachItem?.resolve(undefined);
    this.shutDown('closed-by-app', undefined);
  }
}
