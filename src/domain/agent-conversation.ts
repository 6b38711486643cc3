import type { ChatContext, StreamPort } from './chat-context';
import { ChatError } from './chat-error';
import type { Entry } from './entry';
import type { SessionEvent } from './event-bus';
import { joinSession } from './join-session';
import { announceQueueChange } from './queue-changes';
import type { StoredSession } from './session-store';

/** What an agent stream sends besides the accepted session's snapshot: the others' entries, and the session's end. */
export type AgentOutput = { kind: 'entry'; entry: Entry } | { kind: 'session-ended' };

/** The session this stream is in, and its customer (the queue's events name it). */
type Connection = { readonly sessionId: string; readonly customerId: string | undefined; readonly unsubscribe: () => void };

/**
 * The state machine of one ChatAgent stream (SPEC §4): disconnected until `accept`, then
 * connected to one session until `leave`, the session's end, a takeover, or the end of the
 * stream (`close`). The transport awaits each request before the next and they throw ChatError;
 * `close` runs when the stream's signal fires, possibly while a request is pending, so a join
 * checks the signal after every await (join-session.ts).
 */
export class AgentConversation {
  private connection: Connection | undefined;
  /** The last session this stream was connected to, for its log line. */
  lastSessionId: string | undefined;

  constructor(
    private readonly ctx: ChatContext,
    readonly agentId: string,
    private readonly port: StreamPort<AgentOutput>,
  ) {}

  /** Joins session `sessionId`, or (empty id) the one awaiting an agent the longest. */
  async accept(sessionId: string): Promise<void> {
    if (this.connection) throw new ChatError('failed-precondition', 'this stream is already in a session; leave it first');
    const id = sessionId === '' ? await this.takeFromQueue() : await this.checkAcceptable(sessionId);
    this.lastSessionId = id;
    const displace = () => this.port.abort(new ChatError('aborted', 'another stream of this agent took the session over'));
    let takesIt = false; // no other agent was attached: this one takes the session out of the queue
    let customerId: string | undefined;
    await joinSession(this.ctx, this.port, {
      sessionId: id,
      onEvent: (event) => this.onEvent(event),
      attach: async () => void (takesIt = await this.ctx.attachments.attachAgent(id, this.agentId, { id: this.port.id, displace })),
      record: async () => {
        const session = await this.markAttended(id, takesIt);
        customerId = session.customerId;
        return session;
      },
      // Left as any ended stream leaves, so that a session taken from the queue goes back to it.
      detach: () => this.detachFrom(id, customerId, true),
      // Its end is news for an agent: it gets the snapshot, then session_ended.
      refuseEndedMeanwhile: false,
      enter: (unsubscribe) => {
        this.connection = { sessionId: id, customerId, unsubscribe };
        return () => this.detach(true);
      },
    });
  }

  /** Commits the agent's message and pushes it to the customer and the other agents. */
  async send(text: string): Promise<void> {
    const { sessionId } = this.requireConnection('send a message');
    const author = { kind: 'agent', agentId: this.agentId } as const;
    const draft = { author, text, origin: this.port.id, encodedSize: (date: Date) => this.ctx.encodedEntrySize(date, author, text) };
    const entry = await this.ctx.store.appendEntry(sessionId, draft, this.ctx.now(), this.ctx.limits.history);
    this.ctx.metrics.entryCommitted('agent');
    this.ctx.bus.publish({ kind: 'entry', sessionId, seq: entry.seq, entry, origin: this.port.id });
  }

  /** Leaves the session, which stays open and rejoins the queue if no agent is left. */
  async leave(): Promise<void> {
    this.requireConnection('leave');
    await this.detach(true);
  }

  /**
   * The stream has ended, however it ended: leave as `leave` does. Safe to call twice. When the
   * server is stopping, the stream only stops listening: its attachment goes with the server's
   * (the sessions of its agents then rejoin the queue in order of creation, SPEC §2: at the next
   * start on SQLite, as its lease is released on PostgreSQL).
   */
  async close(serverStopping = false): Promise<void> {
    if (!serverStopping) return this.detach(true);
    this.connection?.unsubscribe();
    this.connection = undefined;
  }

  private async takeFromQueue(): Promise<string> {
    const sessionId = await this.ctx.store.takeNextAwaiting();
    if (!sessionId) throw new ChatError('failed-precondition', 'no session is awaiting an agent');
    return sessionId;
  }

  private async checkAcceptable(sessionId: string): Promise<string> {
    const session = await this.ctx.store.findSession(sessionId);
    if (!session) throw new ChatError('not-found', 'no such session');
    if (session.state === 'ended') throw new ChatError('failed-precondition', 'the session has ended');
    return sessionId;
  }

  private onEvent(event: SessionEvent): void {
    if (event.kind === 'ended') {
      this.port.push({ kind: 'session-ended' });
      this.detach(false).catch(this.ctx.reportError);
    } else if (event.origin !== this.port.id) {
      this.port.push({ kind: 'entry', entry: event.entry });
    }
  }

  /** Leaves the current session, if any; puts it back in the queue when `requeue` and no agent is left. */
  private async detach(requeue: boolean): Promise<void> {
    const connection = this.connection;
    if (!connection) return;
    this.connection = undefined;
    connection.unsubscribe();
    await this.detachFrom(connection.sessionId, connection.customerId, requeue);
  }

  /** Records the join; when this agent took the session out of the queue (`takesIt`), the queue's watchers are told. */
  private async markAttended(sessionId: string, takesIt: boolean): Promise<StoredSession> {
    const session = await this.ctx.store.markAttended(sessionId, this.agentId, this.ctx.now());
    if (takesIt) void announceQueueChange(this.ctx, 'taken', sessionId, session.customerId);
    return session;
  }

  /** Detaches this stream; with `requeue`, the session rejoins the queue if no agent is left, and the queue's watchers are told. */
  private async detachFrom(sessionId: string, customerId: string | undefined, requeue: boolean): Promise<void> {
    const requeued = await this.ctx.attachments.detachAgent(sessionId, this.agentId, this.port.id, requeue ? this.ctx.now() : undefined);
    if (requeued) await announceQueueChange(this.ctx, 'waiting', sessionId, customerId);
  }

  private requireConnection(action: string): Connection {
    if (!this.connection) throw new ChatError('failed-precondition', `cannot ${action}: this stream is not in a session; send accept first`);
    return this.connection;
  }
}
