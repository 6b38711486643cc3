import type { ChatContext, StreamPort } from './chat-context';
import { ChatError } from './chat-error';
import { encodedHistoryEntrySize, type Entry } from './entry';
import type { SessionEvent } from './event-bus';
import { openLiveSession } from './live-session';

/** What an agent stream sends besides the accepted session's snapshot: the others' entries, and the session's end. */
export type AgentOutput = { kind: 'entry'; entry: Entry } | { kind: 'session-ended' };

type Connection = { readonly sessionId: string; unsubscribe: () => void };

/**
 * The state machine of one ChatAgent stream (SPEC §4): disconnected until `accept`, then
 * connected to one session until `leave`, the session's end, a takeover, or the end of the
 * stream (`close`). Requests run one at a time (the transport awaits each) and throw ChatError;
 * `close` may run while one is pending, so every step after an await checks the connection.
 */
export class AgentConversation {
  private connection: Connection | undefined;
  private closed = false;
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
    await this.connect(id);
  }

  /** Commits the agent's message and pushes it to the customer and the other agents. */
  async send(text: string): Promise<void> {
    const { sessionId } = this.requireConnection('send a message');
    const author = { kind: 'agent', agentId: this.agentId } as const;
    const draft = { author, text, origin: this.port.id, encodedSize: (date: Date) => encodedHistoryEntrySize(date, author, text) };
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
    this.closed = true;
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

  private async connect(sessionId: string): Promise<void> {
    const displace = () => this.port.abort(new ChatError('aborted', 'another stream of this agent took the session over'));
    this.connection = { sessionId, unsubscribe: () => {} };
    this.lastSessionId = sessionId;
    try {
      // Attached before the session is marked attended, so that a racing `leave` of the last other
      // agent sees this one and does not put the session back in the queue.
      await this.ctx.attachments.attachAgent(sessionId, this.agentId, { id: this.port.id, displace });
      const live = await openLiveSession(this.ctx, sessionId, (event) => this.onEvent(event), () => this.ctx.store.markAttended(sessionId));
      // The stream ended while the session was taken (possibly before this stream attached, while
      // the queue was read): leave as any ended stream does, so it is not left marked as attended.
      if (this.closed) {
        live.unsubscribe();
        return await this.detach(true);
      }
      if (this.connection?.sessionId !== sessionId) return live.unsubscribe(); // the session ended meanwhile
      this.connection.unsubscribe = live.unsubscribe;
      await this.port.pushSnapshot(live.snapshot);
      if (this.connection?.sessionId === sessionId) live.start(); // unless the stream ended while the history was sent
    } catch (err) {
      await this.detach(true);
      throw err;
    }
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
    await this.ctx.attachments.detachAgent(connection.sessionId, this.agentId, this.port.id, requeue ? this.ctx.now() : undefined);
  }

  private requireConnection(action: string): Connection {
    if (!this.connection) throw new ChatError('failed-precondition', `cannot ${action}: this stream is not in a session; send accept first`);
    return this.connection;
  }
}
