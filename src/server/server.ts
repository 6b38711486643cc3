import * as grpc from '@grpc/grpc-js';
import { createAuthenticator } from '../auth/create-authenticator';
import type { Authenticator } from '../auth/identity';
import type { Config } from '../config/config';
import { InProcessEventBus } from '../bus/in-process-event-bus';
import { Attachments } from '../domain/attachments';
import type { ChatContext } from '../domain/chat-context';
import { newSessionId } from '../domain/session-id';
import type { Logger } from '../log/logger';
import { openDatabase } from '../storage/open-database';
import { SqliteSessionStore } from '../storage/sqlite-session-store';
import { createAgentHandler } from '../transport/agent-handler';
import { createCustomerHandler } from '../transport/customer-handler';
import { EncodedHistoryCache } from '../transport/encoded-history-cache';
import { JoinRateLimiter } from '../transport/join-rate-limiter';
import { OutboundBudget } from '../transport/outbound-budget';
import { createRequestParsers, type RequestParsers } from '../transport/request-schemas';
import { onHttp2StreamMissing } from '../transport/http2-stream-of';
import type { CallEnvironment } from '../transport/serve-call';
import { SliceScheduler } from '../transport/slice-scheduler';
import { SnapshotEncoder } from '../transport/snapshot-encoder';
import { UserStreams } from '../transport/user-streams';
import type { SupportServer } from '../../gen/support';
import { gracefulShutdown } from './graceful-shutdown';
import { HealthService } from './health-service';
import { startIdleSweeper } from './idle-sweeper';
import { limitConnections } from './connection-limit';
import { keepRepeatedHeaders } from './repeated-headers';
import { addReflection } from './reflection';
import { strictSupportService } from './support-service';
import { logSecurity } from './log-security';
import { loadServerTransport } from './server-credentials';
import { serverOptions } from './server-options';

/** A started server. */
export type RunningServer = Readonly<{
  host: string;
  /** The bound port (the real one when the configuration asked for 0). */
  port: number;
  /** Stops taking calls, ends live streams with UNAVAILABLE, closes the database. Safe to call twice. */
  shutdown: () => Promise<void>;
  /** What the server holds in memory for live streams: all zero once every stream has ended. */
  liveState: () => LiveState;
}>;

export type LiveState = Readonly<{
  calls: number;
  subscribedSessions: number;
  attachedSessions: number;
  /** Users with a stream open (--max-streams-per-user). */
  usersWithStreams: number;
  /** Response bytes not yet written to the connections (--max-buffered-bytes). */
  bufferedBytes: number;
}>;

/** Internals that tests may shorten; not flags, since no operator needs to change them. */
export type ServerTuning = Readonly<{
  /** How long a stream the server ended may wait for a client that reads nothing before it is reset (SPEC §6: 30 s). */
  resetAfterEndMs: number;
}>;

export const DEFAULT_TUNING: ServerTuning = { resetAfterEndMs: 30_000 };

/** Encoded histories kept for sessions joined again (encoded-history-cache.ts), beside --max-buffered-bytes. */
const ENCODED_HISTORY_CACHE_BYTES = 64 * 1024 * 1024;

/** Opens the database, registers Support, reflection and health, and listens (SPEC §7). */
export async function startServer(config: Config, logger: Logger, tuning: ServerTuning = DEFAULT_TUNING): Promise<RunningServer> {
  // Key and certificate files first: a bad one must stop start-up before the database is touched.
  const authenticator = createAuthenticator(config);
  const transport = loadServerTransport(config);
  const { db, migrations } = openDatabase({ file: config.db, sync: config.sqliteSync });
  logger.info('database ready', { db: config.db, schema_version: migrations.version, migrations_applied: migrations.applied.join(',') });
  const store = new SqliteSessionStore(db);
  const requeued = store.requeueAttendedSessions(new Date());
  if (requeued > 0) logger.info('sessions back in the queue after restart', { sessions: requeued });

  const bus = new InProcessEventBus((error, event) =>
    logger.error('a live stream failed to take an event', { session: event.sessionId, error: error instanceof Error ? error.stack : String(error) }),
  );
  const attachments = new Attachments();
  const chat = chatContext(store, bus, attachments, config);
  let isStopping = false;
  const env = callEnvironment(config, tuning, authenticator, logger, () => isStopping);
  const server = new grpc.Server(serverOptions(config));
  onHttp2StreamMissing((error) => logger.error('grpc-js internals changed', { error: error.message }));
  const health = addServices(server, chat, createRequestParsers(config.maxMessageBytes), env);
  let port: number;
  try {
    port = await bind(server, config.host, config.port, transport.credentials);
    keepRepeatedHeaders(server);
    limitConnections(server, config.maxConnections);
  } catch (err) {
    db.close();
    throw err;
  }
  const stopIdleSweeper = startIdleSweeper(chat, config.idleTimeoutSeconds * 1000, logger);
  logSecurity(config, transport, logger);
  logger.info(`listening on ${hostPort(config.host, port)}`, { host: config.host, port, auth: config.auth, transport: transport.kind });

  const parts = { server, health, liveCalls: env.liveCalls, stopTimers: stopIdleSweeper, closeStore: () => store.close(), logger };
  const liveState = () => ({
    calls: env.liveCalls.size,
    subscribedSessions: bus.subscribedSessionCount,
    attachedSessions: attachments.size,
    usersWithStreams: env.userStreams.users,
    bufferedBytes: env.outbound.budget.bytes,
  });
  return { host: config.host, port, shutdown: gracefulShutdown(parts, () => (isStopping = true)), liveState };
}

function callEnvironment(config: Config, tuning: ServerTuning, authenticator: Authenticator, logger: Logger, isStopping: () => boolean): CallEnvironment {
  // A few full histories' worth of bytes per stream, beside --stream-queue responses.
  const limits = { responses: config.streamQueue, bytes: 4 * config.maxHistoryBytes, resetAfterEndMs: tuning.resetAfterEndMs };
  return {
    authenticator,
    logger,
    requestRate: { perSecond: config.maxMessagesPerSecond, burst: config.messageBurst },
    outbound: { limits, budget: new OutboundBudget(config.maxBufferedBytes) },
    userStreams: new UserStreams(config.maxStreamsPerUser),
    joins: new JoinRateLimiter(config.maxJoinsPerMinute),
    snapshots: new SnapshotEncoder(new SliceScheduler(), new EncodedHistoryCache(ENCODED_HISTORY_CACHE_BYTES)),
    liveCalls: new Set(),
    isStopping,
  };
}

function chatContext(store: SqliteSessionStore, bus: InProcessEventBus, attachments: Attachments, config: Config): ChatContext {
  return {
    store,
    bus,
    attachments,
    limits: {
      maxOpenSessions: config.maxOpenSessions,
      history: { maxBytes: config.maxHistoryBytes, maxEntries: config.maxHistoryEntries },
    },
    now: () => new Date(),
    newSessionId,
  };
}

/** Support (with strict request decoding), reflection and health; returns the health service. */
function addServices(server: grpc.Server, chat: ChatContext, parsers: RequestParsers, env: CallEnvironment): HealthService {
  const implementation: SupportServer = {
    chatCustomer: createCustomerHandler(chat, parsers, env),
    chatAgent: createAgentHandler(chat, parsers, env),
  };
  server.addService(strictSupportService, implementation);
  addReflection(server);
  const health = new HealthService();
  health.addToServer(server);
  return health;
}

function bind(server: grpc.Server, host: string, port: number, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(hostPort(host, port), credentials, (err, boundPort) =>
      err ? reject(err) : resolve(boundPort),
    ),
  );
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
