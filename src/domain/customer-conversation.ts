import type { ChatContext, StreamPort } from './chat-context';
import { ChatError } from './chat-error';
import { encodedHistoryEntrySize, type Entry } from './entry';
import type { SessionEvent } from './event-bus';
import { openLiveSession } from './live-session';
import type { SessionRecord } from './session-store';

/** What a customer stream sends besides the session's snapshot: agents' messages. */
export type CustomerOutput = { kind: 'agent-message'; entry: Entry };

type Connection = { readonly sessionId: string; unsubscribe: () => void };

const customer = { kind: 'customer' } as const;

/**
 * The state machine of one ChatCustomer stream (SPEC §3): disconnected until `init`, then
 * connected to one session until `hangUp`, a takeover, the session's end, or the end of the
 * stream (`close`). Requests run one at a time (the transport awaits each); `close` may run while
 * one is pending, so every step after an await checks that the stream is still connected.
 */
export class CustomerConversation {
  private connection: Connection | undefined;
  private closed = false;
  /** The last session this stream was connected to, for its log line. */
  lastSessionId: string | undefined;

  constructor(
    private readonly ctx: ChatContext,
    readonly customerId: string,
    private readonly port: StreamPort<CustomerOutput>,
  ) {}

  /** Starts a new session (empty id) or resumes one of this customer's open sessions. */
  async init(resumeSessionId: string): Promise<void> {
    if (this.connection) throw new ChatError('failed-precondition', 'this stream is already in a session; hang up first');
    const sessionId = resumeSessionId === '' ? await this.createSession() : await this.checkResumable(resumeSessionId);
    await this.connect(sessionId);
  }

  /** Commits the customer's message and pushes it to the session's agents. */
  async send(text: string): Promise<void> {
    const { sessionId } = this.requireConnection('send a message');
    const draft = { author: customer, text, origin: this.port.id, encodedSize: (date: Date) => encodedHistoryEntrySize(date, customer, text) };
    const entry = await this.ctx.store.appendEntry(sessionId, draft, this.ctx.now(), this.ctx.limits.history);
    this.ctx.metrics.entryCommitted('customer');
    this.ctx.bus.publish({ kind: 'entry', sessionId, seq: entry.seq, entry, origin: this.port.id });
  }

  /** Ends the session for everyone; committed before any agent is told. The stream may init again. */
  async hangUp(): Promise<void> {
    const { sessionId } = this.requireConnection('hang up');
    const { lastSeq } = await this.ctx.store.endSession(sessionId, this.ctx.now());
    // Left first: this stream's own end is not news to it (see onEvent).
    const detached = this.detach();
    this.ctx.bus.publish({ kind: 'ended', sessionId, seq: lastSeq + 1 });
    await detached;
  }

  /** The stream has ended, however it ended: detach, leaving the session open. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    const sessionId = await this.detach();
    if (sessionId) await this.ctx.store.recordCustomerPresence([sessionId], this.ctx.now());
  }

  private async createSession(): Promise<string> {
    const sessionId = this.ctx.newSessionId();
    await this.ctx.store.createSession(sessionId, this.customerId, this.ctx.now(), this.ctx.limits.maxOpenSessions);
    return sessionId;
  }

  private async checkResumable(sessionId: string): Promise<string> {
    const session = await this.ctx.store.findSession(sessionId);
    // Someone else's session looks exactly like a missing one: its existence is not revealed.
    if (!session || session.customerId !== this.customerId) throw new ChatError('not-found', 'no such session');
    if (session.state === 'ended') throw new ChatError('failed-precondition', 'the session has ended');
    return sessionId;
  }

  private async connect(sessionId: string): Promise<void> {
    const displace = () => this.port.abort(new ChatError('aborted', 'another stream of this customer took the session over'));
    const stream = { id: this.port.id, displace };
    // Attached before the session is read: the idle sweep, which ends only sessions without a
    // customer attached, either ended it before (the read says so) or leaves it open.
    const join = async () => {
      await this.ctx.attachments.attachCustomer(sessionId, stream);
      // Presence is only a hint for after a crash: not awaited, so that a resume needs no write
      // (it is served while another process holds the database's write lock).
      this.ctx.store.recordCustomerPresence([sessionId], this.ctx.now()).catch(this.reportUnlessUnavailable);
      return this.openSession(sessionId);
    };
    const live = await openLiveSession(this.ctx, sessionId, (event) => this.onEvent(event), join).catch(async (err: unknown) => {
      await this.ctx.attachments.detachCustomer(sessionId, this.port.id);
      throw err;
    });
    if (this.closed || live.endedMeanwhile()) {
      live.unsubscribe();
      await this.ctx.attachments.detachCustomer(sessionId, this.port.id);
      if (this.closed) return;
      throw new ChatError('failed-precondition', 'the session has ended');
    }
    this.connection = { sessionId, unsubscribe: live.unsubscribe };
    this.lastSessionId = sessionId;
    try {
      await this.port.pushSnapshot(live.snapshot);
    } catch (err) {
      await this.detach();
      throw err;
    }
    if (this.connection?.sessionId !== sessionId) return; // the stream ended while the history was sent
    live.start();
  }

  private async openSession(sessionId: string): Promise<SessionRecord> {
    const session = await this.ctx.store.findSession(sessionId);
    if (!session) throw new ChatError('not-found', 'no such session');
    return session;
  }

  private readonly reportUnlessUnavailable = (error: unknown): void => {
    if (!(error instanceof ChatError && error.kind === 'unavailable')) this.ctx.reportError(error);
  };

  private onEvent(event: SessionEvent): void {
    if (event.kind === 'ended') {
      // Ended by someone else (a hang-up from another device, the idle timeout, an operator):
      // the protocol has no message for it, so the stream ends as a resume of it would.
      this.detach().catch(this.ctx.reportError);
      this.port.abort(new ChatError('failed-precondition', 'the session has ended'));
    } else if (event.entry.author.kind === 'agent') {
      this.port.push({ kind: 'agent-message', entry: event.entry });
    }
  }

  /**
   * Leaves the current session, if any: at once for this stream (no more events), then in the
   * attachments. Resolves with the session's id if this stream was still its customer stream.
   */
  private async detach(): Promise<string | undefined> {
    const connection = this.connection;
    if (!connection) return undefined;
    this.connection = undefined;
    connection.unsubscribe();
    return (await this.ctx.attachments.detachCustomer(connection.sessionId, this.port.id)) ? connection.sessionId : undefined;
  }

  private requireConnection(action: string): Connection {
    if (!this.connection) throw new ChatError('failed-precondition', `cannot ${action}: this stream is not in a session; send init first`);
    return this.connection;
  }
}
