import * as grpc from '@grpc/grpc-js';
import { createAuthenticator } from '../auth/create-authenticator';
import type { Config } from '../config/config';
import { InProcessEventBus } from '../bus/in-process-event-bus';
import { Attachments } from '../domain/attachments';
import type { ChatContext } from '../domain/chat-context';
import { newSessionId } from '../domain/session-id';
import type { Logger } from '../log/logger';
import { SqliteSessionStore } from '../storage/sqlite-session-store';
import { createAgentHandler } from '../transport/agent-handler';
import { createCustomerHandler } from '../transport/customer-handler';
import { createRequestParsers, type RequestParsers } from '../transport/request-schemas';
import type { CallEnvironment } from '../transport/serve-call';
import type { SupportServer } from '../../gen/support';
import { gracefulShutdown } from './graceful-shutdown';
import { HealthService } from './health-service';
import { startIdleSweeper } from './idle-sweeper';
import { keepRepeatedHeaders } from './repeated-headers';
import { openStore } from './open-store';
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

export type LiveState = Readonly<{ calls: number; subscribedSessions: number; attachedSessions: number }>;

/** Opens the database, registers Support, reflection and health, and listens (SPEC §7). */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  // Key and certificate files first: a bad one must stop start-up before the database is touched.
  const authenticator = createAuthenticator(config);
  const transport = loadServerTransport(config);
  const { store, closeStore } = await openStore(config, logger);

  const bus = new InProcessEventBus();
  const attachments = new Attachments();
  const chat = chatContext(store, bus, attachments, config);
  let isStopping = false;
  // A few full histories' worth of bytes per stream, beside --stream-queue responses.
  const outbound = { responses: config.streamQueue, bytes: 4 * config.maxHistoryBytes };
  const requestRate = { perSecond: config.maxMessagesPerSecond, burst: config.messageBurst };
  const env: CallEnvironment = { authenticator, logger, requestRate, outbound, liveCalls: new Set(), isStopping: () => isStopping };
  const server = new grpc.Server(serverOptions(config));
  const health = addServices(server, chat, createRequestParsers(config.maxMessageBytes), env);
  let port: number;
  try {
    port = await bind(server, config.host, config.port, transport.credentials);
    keepRepeatedHeaders(server);
  } catch (err) {
    closeStore();
    throw err;
  }
  const stopIdleSweeper = startIdleSweeper(chat, config.idleTimeoutSeconds * 1000, logger);
  logSecurity(config, transport, logger);
  logger.info(`listening on ${hostPort(config.host, port)}`, { host: config.host, port, auth: config.auth, transport: transport.kind });

  const parts = { server, health, liveCalls: env.liveCalls, stopTimers: stopIdleSweeper, closeStore, logger };
  const liveState = () => ({ calls: env.liveCalls.size, subscribedSessions: bus.subscribedSessionCount, attachedSessions: attachments.size });
  return { host: config.host, port, shutdown: gracefulShutdown(parts, () => (isStopping = true)), liveState };
}

function chatContext(store: SqliteSessionStore, bus: InProcessEventBus, attachments: Attachments, config: Config): ChatContext {
  return {
    store,
    bus,
    attachments,
    limits: { maxOpenSessions: config.maxOpenSessions, maxHistoryBytes: config.maxHistoryBytes },
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
