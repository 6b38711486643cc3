import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { createAuthenticator } from '../auth/create-authenticator';
import type { Config } from '../config/config';
import { Administration } from '../domain/administration';
import type { ChatContext } from '../domain/chat-context';
import type { Logger } from '../log/logger';
import { createAgentHandler } from '../transport/agent-handler';
import { createCustomerHandler } from '../transport/customer-handler';
import { createRequestParsers, type RequestParsers } from '../transport/request-schemas';
import { requireCheckedVersions } from '../transport/grpc-internals';
import { onHttp2StreamMissing } from '../transport/http2-stream-of';
import type { CallEnvironment } from '../transport/serve-call';
import type { AdminEnvironment } from '../transport/admin/admin-call';
import { strictAdminService } from '../transport/admin/admin-service-definition';
import { createAdminService, type AdminServices } from '../transport/admin/admin-service';
import type { SupportServer } from '../../gen/support';
import { gracefulShutdown } from './graceful-shutdown';
import { HealthService } from './health-service';
import { startIdleSweeper } from './idle-sweeper';
import { DEFAULT_RETENTION_SCHEDULE, startRetentionJob, type RetentionSchedule } from './retention-job';
import { limitConnections } from './connection-limit';
import { keepRepeatedHeaders } from './repeated-headers';
import { openChatBackend } from './chat-backend';
import { callEnvironment } from './call-environment';
import { chatContext } from './chat-context-of';
import { addReflection } from './reflection';
import { strictSupportService } from './support-service';
import { logSecurity } from './log-security';
import { loadServerTransport } from './server-credentials';
import { serverMetrics } from './metrics-endpoint';
import { serverOptions } from './server-options';
import { ensurePortFree } from './port-check';

/** A started server. */
export type RunningServer = Readonly<{
  host: string;
  /** The bound port (the real one when the configuration asked for 0). */
  port: number;
  /** The port of GET /metrics, when --metrics-port is given. */
  metricsPort: number | undefined;
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
  /** When --retention-days runs, and the clock it reads (a test's is days ahead). */
  retention?: RetentionSchedule;
}>;

export const DEFAULT_TUNING: ServerTuning = { resetAfterEndMs: 30_000 };

/** Opens the database, registers Support, reflection and health, and listens (SPEC §7). */
export async function startServer(config: Config, logger: Logger, tuning: ServerTuning = DEFAULT_TUNING): Promise<RunningServer> {
  requireCheckedVersions();
  // Key and certificate files, then the port: a bad file or a taken port must stop start-up before the database is touched.
  const authenticator = createAuthenticator(config);
  const transport = loadServerTransport(config);
  await ensurePortFree(config.host, config.port);
  const instanceId = randomBytes(6).toString('base64url');
  const metrics = serverMetrics(config, logger);
  let endAllStreams = (_why: string) => {};
  const backend = await openChatBackend(config, logger, instanceId, {
    onLeaseLost: () => {
      logger.error('this instance was taken for dead (its lease lapsed): its streams end, and it starts again', { instance: instanceId });
      endAllStreams('this server was out of touch with the others; resume the session');
    },
  }, metrics.events);
  const { bus, attachments } = backend;
  const context = chatContext(backend, config, logger, metrics.events);
  let isStopping = false;
  const env = callEnvironment(config, tuning, authenticator, logger, instanceId, () => isStopping, metrics.events);
  endAllStreams = (why) => {
    for (const call of [...env.liveCalls]) call.end({ code: grpc.status.UNAVAILABLE, details: why });
  };
  const server = new grpc.Server(serverOptions(config));
  onHttp2StreamMissing((error) => logger.error('grpc-js internals changed', { error: error.message }));
  const admin: AdminEnvironment = { authenticator, logger, liveStreams: new Set() };
  const administration = new Administration({ ...backend, now: context.now });
  const adminServices = { administration, queue: backend.queue, transcripts: backend, forgetSessions: (ids: readonly string[]) => ids.forEach((id) => env.snapshots.forget(id)) };
  const health = addServices(server, context, createRequestParsers(config.maxMessageBytes), env, { env: admin, services: adminServices });
  let port: number;
  let metricsEndpoint: { port: number | undefined; close: () => void };
  try {
    port = await bind(server, config.host, config.port, transport.credentials);
    keepRepeatedHeaders(server);
    limitConnections(server, config.maxConnections);
    metricsEndpoint = await metrics.serve(backend);
  } catch (err) {
    server.forceShutdown();
    await backend.close();
    throw err;
  }
  const stopIdleSweeper = startIdleSweeper(context, config.idleTimeoutSeconds * 1000, logger);
  const stopRetention =
    config.retentionDays === undefined ? () => {} : startRetentionJob(backend.retention, config.retentionDays, tuning.retention ?? DEFAULT_RETENTION_SCHEDULE, metrics.events, logger);
  logSecurity(config, transport, logger);
  backend.watchDatabase((reachable) => {
    logger.warn(reachable ? 'the database answers again' : 'the database does not answer: health is NOT_SERVING', {});
    health.setServing(reachable);
  });
  logger.info(`listening on ${hostPort(config.host, port)}`, { host: config.host, port, auth: config.auth, transport: transport.kind, ...backend.description });

  const stopTimers = () => {
    stopIdleSweeper();
    stopRetention();
    metricsEndpoint.close();
  };
  const parts = { server, health, liveCalls: env.liveCalls, adminStreams: admin.liveStreams, closing: env.closing, stopTimers, closeStore: backend.close, logger };
  const liveState = () => ({
    calls: env.liveCalls.size,
    subscribedSessions: bus.subscribedSessionCount,
    attachedSessions: attachments.localSessionCount,
    usersWithStreams: env.userStreams.users,
    bufferedBytes: env.outbound.budget.bytes,
  });
  return { host: config.host, port, metricsPort: metricsEndpoint.port, shutdown: gracefulShutdown(parts, () => (isStopping = true)), liveState };
}

/** Support and the admin service (with strict request decoding), reflection and health; returns the health service. */
function addServices(server: grpc.Server, context: ChatContext, parsers: RequestParsers, env: CallEnvironment, admin: { env: AdminEnvironment; services: AdminServices }): HealthService {
  const implementation: SupportServer = {
    chatCustomer: createCustomerHandler(context, parsers, env),
    chatAgent: createAgentHandler(context, parsers, env),
  };
  server.addService(strictSupportService, implementation);
  server.addService(strictAdminService, createAdminService(admin.env, admin.services));
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
