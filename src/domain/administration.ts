import type { Attachments } from './attachments';
import { ChatError } from './chat-error';
import type { Entry } from './entry';
import type { EventBus } from './event-bus';
import { announceQueueChange } from './queue-changes';
import type { QueueEvents } from './queue-events';
import type { QueueStatistics, QueueStatisticsSource } from './queue-statistics';
import type { CustomerErasure, ListPosition, SessionAdministration, SessionFilter, SessionPage, SessionSummary } from './session-administration';
import type { SessionStore } from './session-store';

/** What the admin service's actions need: the chat's store, bus and attachments, and the admin ports. */
export type AdministrationContext = Readonly<{
  store: SessionStore;
  bus: EventBus;
  attachments: Attachments;
  queue: QueueEvents;
  administration: SessionAdministration;
  queueStatistics: QueueStatisticsSource;
  now: () => Date;
}>;

/** One session as an operator reads it: summary, whole history, and the agents who took part. */
export type SessionDetail = Readonly<{ session: SessionSummary; history: Entry[]; agentIds: string[] }>;

/** The queue's counts, and the agent streams attached over the deployment. */
export type QueueReport = QueueStatistics & Readonly<{ agentsAttached: number }>;

/** Entries read per page of a history (the store reads histories page by page). */
const HISTORY_PAGE = 1000;

/**
 * The admin service's actions. Ending and erasing go the way the chat's own ends go: committed in
 * the store first, then an `ended` event on the bus, which every instance delivers to the
 * session's streams (agents get session_ended; the customer's stream leaves the session).
 */
export class Administration {
  constructor(private readonly ctx: AdministrationContext) {}

  listSessions(filter: SessionFilter, limit: number, after: ListPosition | undefined): Promise<SessionPage> {
    return this.ctx.administration.listSessions(filter, limit, after);
  }

  /** `not-found` if there is no such session. */
  async sessionDetail(sessionId: string): Promise<SessionDetail> {
    const session = await this.ctx.administration.describeSession(sessionId);
    if (!session) throw new ChatError('not-found', 'no such session');
    const [history, agentIds] = await Promise.all([this.readHistory(sessionId, session.entryCount), this.ctx.administration.participants(sessionId)]);
    return { session, history, agentIds };
  }

  async queueReport(): Promise<QueueReport> {
    const [statistics, agentsAttached] = await Promise.all([this.ctx.queueStatistics.queueStatistics(), this.ctx.attachments.attachedAgentCount()]);
    return { ...statistics, agentsAttached };
  }

  /** Ends an open session as a hang-up does. `not-found` if there is none, `failed-precondition` if it has ended. */
  async endSession(sessionId: string): Promise<void> {
    const { lastSeq } = await this.ctx.store.endSession(sessionId, this.ctx.now());
    this.ctx.bus.publish({ kind: 'ended', sessionId, seq: lastSeq + 1 });
    await announceQueueChange(this.ctx, 'ended', sessionId);
  }

  /** Erases every session of the customer; the streams of those that were open are ended as by a hang-up. */
  async eraseCustomer(customerId: string): Promise<CustomerErasure> {
    const erasure = await this.ctx.administration.eraseCustomer(customerId);
    for (const { id, lastSeq } of erasure.ended) {
      this.ctx.bus.publish({ kind: 'ended', sessionId: id, seq: lastSeq + 1 });
      void announceQueueChange(this.ctx, 'ended', id, customerId);
    }
    return erasure;
  }

  /**
   * Makes what `eraseCustomer` deleted unreadable in the database's files too (until then its bytes
   * may be in SQLite's write-ahead log); `unavailable` if it cannot yet: calling again finishes it.
   */
  purgeErased(): Promise<void> {
    return this.ctx.administration.purgeDeleted();
  }

  private async readHistory(sessionId: string, lastSeq: number): Promise<Entry[]> {
    const history: Entry[] = [];
    while (history.length < lastSeq) {
      const page = await this.ctx.store.readHistory(sessionId, history.at(-1)?.seq ?? 0, lastSeq, HISTORY_PAGE);
      if (page.length === 0) break; // erased meanwhile
      history.push(...page);
    }
    return history;
  }
}
