import type { Administration } from '../../domain/administration';
import type { QueueEvents } from '../../domain/queue-events';
import type { TranscriptSources } from '../../domain/transcript-export';
import type { SupportAdminServiceServer } from '../../../gen/support/admin/v1/admin';
import { streamingAdminMethod, unaryAdminMethod, type AdminEnvironment } from './admin-call';
import { toProtoEntry, toProtoSummary } from './admin-mapping';
import { parseCustomerId, parseListSessions, parseSessionId } from './admin-requests';
import { exportSessions } from './export-sessions';
import { encodePageToken } from './page-token';
import { watchQueue } from './watch-queue';

/** What the handlers act on: the domain's admin actions, and the transport's caches of sessions. */
export type AdminServices = Readonly<{
  administration: Administration;
  /** The queue's changes (WatchQueue). */
  queue: QueueEvents;
  /** Where transcripts are read from (ExportSessions). */
  transcripts: TranscriptSources;
  /** Drops what the server keeps in memory of these sessions (encoded histories): they were erased. */
  forgetSessions: (sessionIds: readonly string[]) => void;
}>;

/** The admin service's handlers (proto/support/admin/v1/admin.proto), each behind the admin gate. */
export function createAdminService(env: AdminEnvironment, { administration, queue, transcripts, forgetSessions }: AdminServices): SupportAdminServiceServer {
  return {
    listSessions: unaryAdminMethod(env, async (request) => {
      const { filter, limit, after } = parseListSessions(request);
      const page = await administration.listSessions(filter, limit, after);
      return { sessions: page.sessions.map(toProtoSummary), nextPageToken: page.next ? encodePageToken(page.next, filter) : '' };
    }),
    getSession: unaryAdminMethod(env, async (request) => {
      const { session, history, agentIds } = await administration.sessionDetail(parseSessionId(request));
      return { session: toProtoSummary(session), history: history.map((entry) => toProtoEntry(entry, session.customerId)), agentIds };
    }),
    getQueueStatistics: unaryAdminMethod(env, async () => {
      const report = await administration.queueReport();
      return {
        awaitingCount: report.awaitingCount,
        oldestAwaitingSince: report.oldestAwaitingSince,
        attendedCount: report.attendedCount,
        agentsAttached: report.agentsAttached,
      };
    }),
    watchQueue: streamingAdminMethod(env, watchQueue(queue)),
    endSession: unaryAdminMethod(env, async (request) => {
      await administration.endSession(parseSessionId(request));
      return {};
    }),
    eraseCustomer: unaryAdminMethod(env, async (request) => {
      const erasure = await administration.eraseCustomer(parseCustomerId(request));
      forgetSessions(erasure.sessionIds);
      // Answered only once nothing of it can be read back: a retry after UNAVAILABLE finishes the purge.
      await administration.purgeErased();
      return { sessionsErased: erasure.sessions, entriesErased: erasure.entries };
    }),
    exportSessions: streamingAdminMethod(env, exportSessions(transcripts)),
  };
}
