import { EventEmitter } from 'node:events';
import { status as Status } from '@grpc/grpc-js';
import { keepAttached, type LoopHost } from './attachment-loop';
import { ChatCall } from './chat-call';
import { ChatChannel } from './chat-channel';
import { ChatClientError } from './chat-client-error';
import type { ChatEvent, ChatEvents } from './chat-events';
import type { ChatOptions } from './chat-options';
import { attachmentOf, type Attachment, type SessionInfo } from './chat-phase';
import type { ChatProtocol } from './chat-protocol';
import { ChatStateMachine } from './chat-state-machine';
import type { CloseReason, ConnectionState } from './connection-state';
import { callIdentity, type CallIdentity } from './credentials';
import { iterateEvents } from './event-iterator';
import { refusalOf } from './message-check';
import { Outgoing } from './outbox';
import { SessionFeed } from './session-feed';
import { serverNamingOf } from './tls-server-name';

export type { SessionInfo } from './chat-phase';

/**
 * The engine under `CustomerChat` and `AgentChat`: one session at a time, over one call at a time,
 * reconnected and resumed when the call breaks. What it is doing is one `ChatPhase` (idle, joining,
 * in a session, closed; chat-state-machine.ts); a session's reconnect loop (attachment-loop.ts) and
 * the responses of its calls (session-feed.ts) act only while their attachment is the current one.
 */
export class ResilientChat<Req, Res> extends EventEmitter<ChatEvents> {
  private readonly identity: CallIdentity;
  private readonly channel: ChatChannel;
  private readonly machine: ChatStateMachine<Req, Res>;
  private readonly loopHost: LoopHost<Req, Res>;

  constructor(
    private readonly protocol: ChatProtocol<Req, Res>,
    private readonly options: ChatOptions,
  ) {
    super();
    this.identity = callIdentity(options.credentials, options.tls, serverNamingOf(options.address, options.channelOptions));
    this.channel = new ChatChannel(options, this.identity.channel);
    const machine = (this.machine = new ChatStateMachine<Req, Res>(this, protocol.leaveNeedsServer, () => this.channel.drop()));
    const feed = new SessionFeed<Req, Res>({ role: protocol.role, id: this.identity.userId }, {
      phase: () => machine.phase,
      enterSession: (phase) => machine.enterSession(phase),
      setState: (state) => machine.report(state),
      endSession: () => machine.endSession('ended', false),
      events: this,
    });
    this.loopHost = {
      backoff: options.backoff ?? {},
      giveUp: options.giveUp ?? {},
      leaveNeedsServer: protocol.leaveNeedsServer,
      renewableToken: this.identity.renewable,
      isCurrent: (attachment) => machine.isCurrent(attachment),
      isFirstJoin: () => machine.phase.kind === 'joining',
      metadata: () => this.identity.metadata(),
      openCall: (attachment, metadata) => {
        // A resume joins the session already joined; a first join, the one the app asked for.
        const joinId = machine.phase.kind === 'in-session' ? machine.phase.session.sessionId : attachment.target;
        const timeoutMs = options.joinTimeoutMs ?? 10_000;
        return new ChatCall(protocol, this.channel.open(), metadata, joinId, timeoutMs, (incoming, call) => feed.onIncoming(incoming, call));
      },
      reportReconnecting: (state) => machine.report(state),
      freshConnection: () => this.channel.drop(),
    };
  }

  /** The current session's id, to store for `resume` (undefined while idle). */
  get sessionId(): string | undefined {
    return this.session?.sessionId;
  }

  /** The current session (undefined while idle); after closing, the session it was in. */
  get session(): SessionInfo | undefined {
    const phase = this.machine.phase;
    return phase.kind === 'in-session' || phase.kind === 'closed' ? phase.session : undefined;
  }

  /** This user's id as the server knows it (lower-case for demo tokens). */
  get userId(): string {
    return this.identity.userId;
  }

  get connectionState(): ConnectionState {
    return this.machine.state;
  }

  /** Every event from now on, as an async iterator that ends after the `closed` state. */
  events(): AsyncIterableIterator<ChatEvent> {
    return iterateEvents(this);
  }

  /** Starts, resumes or accepts a session (`''`: a new one / the queue's next); resolves once joined. */
  protected join(sessionId: string): Promise<SessionInfo> {
    const phase = this.machine.phase;
    if (phase.kind === 'closed') return Promise.reject(closedError(phase.reason));
    if (phase.kind !== 'idle') return Promise.reject(new ChatClientError(Status.FAILED_PRECONDITION, 'already in a session: leave it first'));
    const { attachment, joined } = this.machine.startJoining(sessionId);
    void keepAttached(attachment, this.loopHost).then((end) => this.machine.onAttachmentEnd(attachment, end));
    return joined;
  }

  /**
   * Sends a message in the session (queued while connecting or reconnecting). Resolves once it is
   * written to a live stream; if that stream breaks, the library checks the resumed history and
   * writes it again only if it is not there. Rejects if it cannot be sent: the session ended, the
   * chat closed or gave up (listed in the close reason), or the text is not a valid message.
   */
  send(text: string): Promise<void> {
    const phase = this.machine.phase;
    if (phase.kind === 'closed') return Promise.reject(closedError(phase.reason));
    const attachment = attachmentOf(phase);
    if (!attachment) return Promise.reject(new ChatClientError(Status.FAILED_PRECONDITION, 'not in a session'));
    if (attachment.leaveItem) return Promise.reject(new ChatClientError(Status.FAILED_PRECONDITION, 'leaving the session'));
    const refusal = refusalOf(text, this.options.maxMessageBytes ?? 8192);
    if (refusal) return Promise.reject(refusal);
    return this.enqueue(attachment, new Outgoing('message', text));
  }

  /** Hangs up (customer) or leaves (agent); resolves once done. */
  protected leave(): Promise<void> {
    const phase = this.machine.phase;
    if (phase.kind === 'closed') return Promise.reject(closedError(phase.reason));
    const attachment = attachmentOf(phase);
    if (!attachment) return Promise.resolve();
    if (attachment.leaveItem) return attachment.leaveItem.promise;
    const item = (attachment.leaveItem = new Outgoing('leave'));
    if (this.protocol.leaveNeedsServer || attachment.call?.joined) return this.enqueue(attachment, item);
    // An agent without a live stream is not in the session any more: nothing to tell the server.
    attachment.call?.cancel();
    item.resolve(undefined);
    this.machine.goIdle('the agent left the session');
    return item.promise;
  }

  /** Stops for good at once: the stream is cancelled (the session stays open) and pending messages fail. */
  close(): void {
    this.machine.shutDown('closed-by-app', undefined);
  }

  /**
   * Stops for good after the messages already sent reach the server: the stream is half-closed and
   * the server's OK awaited (it answers once it has handled every request before it), for at most
   * `timeoutMs`; then as `close()`. The session stays open.
   */
  async closeGracefully(timeoutMs = 5000): Promise<void> {
    if (this.machine.phase.kind === 'closed') return;
    const attachment = attachmentOf(this.machine.phase);
    if (attachment) {
      const timer = setTimeout(() => this.close(), timeoutMs);
      await this.enqueue(attachment, (attachment.detachItem ??= new Outgoing('detach'))).catch(() => {});
      clearTimeout(timer);
    }
    this.close();
  }

  /** Queues `item` and writes what the live call can take now; returns the item's promise. */
  private enqueue(attachment: Attachment<Req, Res>, item: Outgoing): Promise<void> {
    attachment.outbox.add(item);
    attachment.call?.writeFrom(attachment.outbox);
    return item.promise;
  }
}

function closedError(reason: CloseReason): ChatClientError {
  return new ChatClientError(reason.error?.code ?? Status.CANCELLED, `the chat is closed (${reason.kind})`);
}
