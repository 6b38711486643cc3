import { EventEmitter } from 'node:events';
import { status as Status, type Metadata, type StatusObject } from '@grpc/grpc-js';
import { SupportClient, type Session } from '../../gen/support';
import { Backoff } from './backoff';
import { verdictOf, type CallVerdict } from './call-verdict';
import { ChatClientError } from './chat-client-error';
import { isOwnEntry, textOf, toChatEntry, type Self } from './chat-entry';
import type { ChatEvent, ChatEvents } from './chat-events';
import { channelOptionsOf, type ChatOptions } from './chat-options';
import { ChatCall } from './chat-call';
import type { ChatProtocol, Incoming } from './chat-protocol';
import type { CloseReason, CloseReasonKind, ConnectionState } from './connection-state';
import { callIdentity, type CallIdentity } from './credentials';
import { Deferred } from './deferred';
import { reconcile, type HistoryCursor } from './history-sync';
import { Outbox, Outgoing, sessionOverError } from './outbox';
import { refusalOf } from './message-check';
import { iterateEvents } from './event-iterator';

/** The session a chat joined. */
export type SessionInfo = Readonly<{ sessionId: string; customerName: string }>;

/**
 * The engine under `CustomerChat` and `AgentChat`: one session at a time, over one call at a time,
 * reconnected and resumed when the call breaks. Every wait is tied to a generation: joining,
 * leaving, a session end and closing start a new one, so a loop or call of an earlier one that
 * wakes up later does nothing.
 */
export class ResilientChat<Req, Res> extends EventEmitter<ChatEvents> {
  private readonly identity: CallIdentity;
  private readonly self: Self;
  private client: SupportClient | undefined;
  private call: ChatCall<Req, Res> | undefined;
  private generation = 0;
  private current: SessionInfo | undefined;
  /** What the app asked to join: a session id, or '' for a new session / the queue's next. */
  private target = '';
  private cursor: HistoryCursor = { base: 0, othersSeen: 0 };
  private outbox = new Outbox();
  private leaveItem: Outgoing | undefined;
  private detachItem: Outgoing | undefined;
  private joinWaiter: Deferred<SessionInfo> | undefined;
  /** The server refused a message; the first one not found in the next history is that one. */
  private refusal: ChatClientError | undefined;
  private state: ConnectionState = { kind: 'idle' };
  private closeReason: CloseReason | undefined;
  private wakeFromSleep: (() => void) | undefined;

  constructor(
    private readonly protocol: ChatProtocol<Req, Res>,
    private readonly options: ChatOptions,
  ) {
    super();
    this.identity = callIdentity(options.credentials, options.tls, options.address);
    this.self = { role: protocol.role, id: this.identity.userId };
  }

  /** The current session's id, to store for `resume` (undefined while idle). */
  get sessionId(): string | undefined {
    return this.current?.sessionId;
  }

  /** The current session (undefined while idle). */
  get session(): SessionInfo | undefined {
    return this.current;
  }

  /** This user's id as the server knows it (lower-case for demo tokens). */
  get userId(): string {
    return this.identity.userId;
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  /** Every event from now on, as an async iterator that ends after the `closed` state. */
  events(): AsyncIterableIterator<ChatEvent> {
    return iterateEvents(this);
  }

  /** Starts, resumes or accepts a session (`''`: a new one / the queue's next); resolves once joined. */
  protected join(sessionId: string): Promise<SessionInfo> {
    if (this.closeReason) return Promise.reject(closedError(this.closeReason));
    if (this.state.kind !== 'idle') {
      return Promise.reject(new ChatClientError(Status.FAILED_PRECONDITION, 'already in a session: leave it first'));
    }
    const generation = ++this.generation;
    this.target = sessionId;
    this.current = undefined;
    this.outbox = new Outbox();
    this.joinWaiter = new Deferred<SessionInfo>();
    this.setState({ kind: 'connecting' });
    void this.runAttachment(generation);
    return this.joinWaiter.promise;
  }

  /**
   * Sends a message in the session (queued while connecting or reconnecting). Resolves once it is
   * written to a live stream; if that stream breaks, the library checks the resumed history and
   * writes it again only if it is not there. Rejects if it cannot be sent: the session ended, the
   * chat closed or gave up (listed in the close reason), or the text is not a valid message.
   */
  send(text: string): Promise<void> {
    const refusal = this.closeReason ? closedError(this.closeReason) : this.sendRefusal(text);
    if (refusal) return Promise.reject(refusal);
    const item = new Outgoing('message', text);
    this.outbox.add(item);
    this.pump();
    return item.promise;
  }

  /** Hangs up (customer) or leaves (agent); resolves once done. */
  protected leave(): Promise<void> {
    if (this.closeReason) return Promise.reject(closedError(this.closeReason));
    if (this.state.kind === 'idle') return Promise.resolve();
    if (this.leaveItem) return this.leaveItem.promise;
    const item = (this.leaveItem = new Outgoing('leave'));
    if (!this.protocol.leaveNeedsServer && !this.call?.joined) {
      // An agent without a live stream is not in the session any more: nothing to tell the server.
      this.call?.cancel();
      item.resolve(undefined);
      this.goIdle('the agent left the session');
    } else {
      this.outbox.add(item);
      this.pump();
    }
    return item.promise;
  }

  /** Stops for good at once: the stream is cancelled (the session stays open) and pending messages fail. */
  close(): void {
    this.shutDown('closed-by-app', undefined);
  }

  /**
   * Stops for good after the messages already sent reach the server: the stream is half-closed and
   * the server's OK awaited (it answers once it has handled every request before it), for at most
   * `timeoutMs`; then as `close()`. The session stays open.
   */
  async closeGracefully(timeoutMs = 5000): Promise<void> {
    if (this.closeReason) return;
    if (this.state.kind !== 'idle') {
      const item = (this.detachItem ??= new Outgoing('detach'));
      this.outbox.add(item);
      this.pump();
      const timer = setTimeout(() => this.close(), timeoutMs);
      await item.promise.catch(() => {});
      clearTimeout(timer);
    }
    this.close();
  }

  /** Joins, then keeps the session joined across breaks until it is left, ends, or the chat closes. */
  private async runAttachment(generation: number): Promise<void> {
    let backoff: Backoff | undefined;
    let cause: ChatClientError | undefined;
    while (generation === this.generation) {
      if (cause) {
        backoff ??= new Backoff(this.options.backoff ?? {}, this.options.giveUp ?? {});
        const delayMs = backoff.next();
        if (delayMs === undefined) return this.shutDown('gave-up', cause);
        this.setState({ kind: 'reconnecting', attempt: backoff.attempt, delayMs, cause });
        await this.sleep(delayMs);
        if (generation !== this.generation) return;
      }
      const metadata = await this.identity.metadata().catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
      if (generation !== this.generation) return;
      if (metadata instanceof Error) {
        // The app's token source failed (its identity provider may be down): try again later.
        cause = new ChatClientError(Status.UNAVAILABLE, `could not get a token: ${metadata.message}`);
        continue;
      }
      const { call, status } = await this.runCall(metadata);
      if (generation !== this.generation) return;
      if (call.joined) backoff = undefined; // a new outage starts a new count
      if (call.halfClosed && this.detachItem) return this.finishDetach(status);
      const verdict = verdictOf({
        code: status.code,
        joined: call.joined,
        firstJoin: this.current === undefined,
        timedOut: call.timedOut,
        sessionEnded: call.sessionEnded,
        leaving: this.leaveItem !== undefined,
        halfClosed: call.halfClosed,
        leaveNeedsServer: this.protocol.leaveNeedsServer,
        writtenMessages: this.outbox.writtenMessageCount(),
        renewableToken: this.identity.renewable,
      });
      if (verdict.kind !== 'retry') return this.settle(verdict, call, status);
      cause = call.timedOut ? new ChatClientError(Status.DEADLINE_EXCEEDED, 'the server did not answer in time') : ChatClientError.from(status);
      if (verdict.rejectHead) this.refusal = cause;
      this.dropClient(); // the next attempt gets a fresh connection, not one in grpc-js's own backoff
    }
  }

  /** Opens a call with the join request; resolves once it is over. */
  private async runCall(metadata: Metadata): Promise<{ call: ChatCall<Req, Res>; status: StatusObject }> {
    const joinId = this.current?.sessionId ?? this.target;
    const timeoutMs = this.options.joinTimeoutMs ?? 10_000;
    const call = new ChatCall(this.protocol, this.ensureClient(), metadata, joinId, timeoutMs, (incoming, from) =>
      this.onIncoming(incoming, from),
    );
    this.call = call;
    const status = await call.finished;
    if (this.call === call) this.call = undefined;
    return { call, status };
  }

  private onIncoming(incoming: Incoming, call: ChatCall<Req, Res>): void {
    if (call !== this.call) return; // a call given up on (left, ended, closed) that still had something in flight
    if (incoming.kind === 'joined') {
      call.joined = true;
      this.onJoined(incoming.session);
    } else if (incoming.kind === 'entry' && call.joined) {
      this.cursor.othersSeen++;
      this.emit('entry', toChatEntry(incoming.entry, this.current!.customerName, this.self));
    } else if (incoming.kind === 'ended') {
      // The agent is out of the session now; the stream is of no further use.
      call.sessionEnded = true;
      call.halfClose();
      this.endSession('ended', false);
    }
  }

  /** The join reply: on the first, the whole history is new to the app; on a resume, only what it missed. */
  private onJoined(session: Session): void {
    const first = this.current === undefined;
    if (first) this.current = { sessionId: session.sessionId, customerName: session.customerName };
    const unseen = first ? session.history : this.resync(session);
    this.cursor = { base: session.history.length, othersSeen: 0 };
    this.setState({ kind: 'connected', sessionId: session.sessionId });
    for (const entry of unseen) this.emit('entry', toChatEntry(entry, session.customerName, this.self));
    if (first) this.joinWaiter?.resolve(this.current!);
    this.pump();
  }

  /** After a resume: settles what was written before the break, and returns the entries the app missed. */
  private resync(session: Session) {
    const isOwn = (entry: (typeof session.history)[number]) => isOwnEntry(entry, this.self);
    const { unseen, committed } = reconcile(session.history, this.cursor, this.outbox.writtenTexts(), isOwn, textOf);
    this.outbox.resync(committed);
    if (this.refusal) {
      const refused = this.outbox.dropFirstMessage();
      refused?.reject(this.refusal);
      if (refused) this.emit('messageRejected', { text: refused.text, error: this.refusal });
      this.refusal = undefined;
    }
    return unseen;
  }

  private pump(): void {
    this.call?.writeFrom(this.outbox);
  }

  private settle(verdict: Exclude<CallVerdict, { kind: 'retry' }>, call: ChatCall<Req, Res>, status: StatusObject): void {
    const error = ChatClientError.from(status);
    if (verdict.kind === 'fatal') return this.shutDown(verdict.reason, error);
    if (verdict.kind === 'join-refused') {
      this.joinWaiter?.reject(error);
      return this.goIdle(`the server refused to join: ${error.message}`);
    }
    if (verdict.kind === 'session-gone') return this.endSession(verdict.reason, this.leaveItem !== undefined);
    // done: the app left. A half-close answered with OK means the server handled every request.
    if (call.halfClosed && status.code === Status.OK) this.outbox.confirmWritten();
    if (this.protocol.leaveNeedsServer) return this.endSession('ended', true);
    this.leaveItem?.resolve(undefined);
    this.goIdle('the agent left the session');
  }

  /** The half-close of `closeGracefully` was answered: with OK, everything written arrived. */
  private finishDetach(status: StatusObject): void {
    if (status.code === Status.OK) this.outbox.confirmWritten();
    this.detachItem?.resolve(undefined);
    this.shutDown('closed-by-app', undefined);
  }

  /** The session is over for this chat: tell the app, and go idle. `hungUp`: by this customer's hang-up. */
  private endSession(reason: 'ended' | 'not-found', hungUp: boolean): void {
    const sessionId = this.current?.sessionId;
    if (hungUp) {
      // The hang-up was handled, so was everything written before it.
      this.outbox.confirmWritten();
      this.leaveItem?.resolve(undefined);
    }
    this.goIdle('the session ended');
    if (sessionId) this.emit('sessionEnded', { sessionId, reason: hungUp ? 'hung-up' : reason });
  }

  private goIdle(why: string): void {
    this.generation++;
    this.outbox.failAll(sessionOverError(why));
    this.leaveItem?.reject(sessionOverError(why));
    this.joinWaiter?.reject(sessionOverError(why));
    this.current = undefined;
    this.leaveItem = undefined;
    this.refusal = undefined;
    this.call = undefined;
    this.wakeFromSleep?.();
    this.setState({ kind: 'idle' });
  }

  private shutDown(kind: CloseReasonKind, error: ChatClientError | undefined): void {
    if (this.closeReason) return;
    this.generation++;
    const failure = new ChatClientError(error?.code ?? Status.CANCELLED, `the chat closed (${kind})${error ? `: ${error.message}` : ''}`);
    const { unconfirmed, unsent } = this.outbox.failAll(failure);
    this.closeReason = { kind, error, unconfirmed, unsent };
    this.leaveItem?.reject(failure);
    this.joinWaiter?.reject(failure);
    this.call?.cancel();
    this.call = undefined;
    this.wakeFromSleep?.();
    this.dropClient();
    this.setState({ kind: 'closed', reason: this.closeReason });
  }

  private sendRefusal(text: string): ChatClientError | undefined {
    if (this.state.kind === 'idle') return new ChatClientError(Status.FAILED_PRECONDITION, 'not in a session');
    if (this.leaveItem) return new ChatClientError(Status.FAILED_PRECONDITION, 'leaving the session');
    return refusalOf(text, this.options.maxMessageBytes ?? 8192);
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    this.emit('state', state);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeFromSleep = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private ensureClient(): SupportClient {
    this.client ??= new SupportClient(this.options.address, this.identity.channel, channelOptionsOf(this.options));
    return this.client;
  }

  private dropClient(): void {
    this.client?.close();
    this.client = undefined;
  }
}

function closedError(reason: CloseReason): ChatClientError {
  return new ChatClientError(reason.error?.code ?? Status.CANCELLED, `the chat is closed (${reason.kind})`);
}
