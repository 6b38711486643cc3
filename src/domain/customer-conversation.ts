import type { ChatContext, StreamPort } from './chat-context';
import { ChatError } from './chat-error';
import type { Author, Entry } from './entry';
import type { SessionEvent } from './event-bus';
import { joinSession } from './join-session';
import type { StoredSession } from './session-store';
import { announceQueueChange } from './queue-changes';

/** What a customer stream sends besides the session's snapshot: agents' messages. */
export type CustomerOutput = { kind: 'agent-message'; entry: Entry };

type Connection = { readonly sessionId: string; readonly unsubscribe: () => void };

/** The author of every entry a customer stream sends. */
const customerAuthor: Author = { kind: 'customer' };

/**
 * The state machine of one ChatCustomer stream (SPEC §3): disconnected until `init`, then
 * connected to one session until `hangUp`, a takeover, the session's end, or the end of the
 * stream (`close`). The transport awaits each request before the next and they throw ChatError;
 * `close` runs when the stream's signal fires, possibly while a request is pending, so a join
 * checks the signal after every await (join-session.ts).
 */
export class CustomerConversation {
  private connection: Connection | undefined;
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
    const displace = () => this.port.abort(new ChatError('aborted', 'another stream of this customer took the session over'));
    await joinSession(this.ctx, this.port, {
      sessionId,
      onEvent: (event) => this.onEvent(event),
      attach: () => this.ctx.attachments.attachCustomer(sessionId, { id: this.port.id, displace }),
      record: () => this.readJoined(sessionId),
      detach: () => this.ctx.attachments.detachCustomer(sessionId, this.port.id),
      // The protocol has no message for a customer's session ending: the join fails as a resume of it would.
      refuseEndedMeanwhile: true,
      enter: (unsubscribe) => {
        this.connection = { sessionId, unsubscribe };
        this.lastSessionId = sessionId;
        return () => this.detach();
      },
    });
  }

  /** Commits the customer's message and pushes it to the session's agents. */
  async send(text: string): Promise<void> {
    const { sessionId } = this.requireConnection('send a message');
    const draft = { author: customerAuthor, text, origin: this.port.id, encodedSize: (date: Date) => this.ctx.encodedEntrySize(date, customerAuthor, text) };
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
    void announceQueueChange(this.ctx, 'ended', sessionId, this.customerId);
    await detached;
  }

  /** The stream has ended, however it ended: detach, leaving the session open. Safe to call twice. */
  async close(): Promise<void> {
    const sessionId = await this.detach();
    if (sessionId) await this.ctx.store.recordCustomerPresence([sessionId], this.ctx.now());
  }

  private async createSession(): Promise<string> {
    const sessionId = this.ctx.newSessionId();
    await this.ctx.store.createSession(sessionId, this.customerId, this.ctx.now(), this.ctx.limits.maxOpenSessions);
    void announceQueueChange(this.ctx, 'waiting', sessionId, this.customerId);
    return sessionId;
  }

  private async checkResumable(sessionId: string): Promise<string> {
    const session = await this.ctx.store.findSession(sessionId);
    // Someone else's session looks exactly like a missing one: its existence is not revealed.
    if (!session || session.customerId !== this.customerId) throw new ChatError('not-found', 'no such session');
    if (session.state === 'ended') throw new ChatError('failed-precondition', 'the session has ended');
    return sessionId;
  }

  /**
   * The session as this stream joins it (read once the stream is attached, see join-session.ts).
   * Presence is only a hint for after a crash: not awaited, so that a resume needs no write (it is
   * served while another process holds the database's write lock).
   */
  private async readJoined(sessionId: string): Promise<StoredSession> {
    this.ctx.store.recordCustomerPresence([sessionId], this.ctx.now()).catch(this.reportUnlessUnavailable);
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
