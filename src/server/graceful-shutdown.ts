import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../log/logger';
import type { CallStream } from '../transport/call-stream';
import type { CallStatus } from '../transport/grpc-status';
import type { HealthService } from './health-service';

/** How long live calls get to receive their UNAVAILABLE status before connections are cut. */
const SHUTDOWN_GRACE_MS = 3000;
/** How long the ended streams' cleanups (detaching, recording presence) get before the store closes. */
const CLEANUP_GRACE_MS = 2000;

/** What a shutdown stops, in order. */
export type ShutdownParts = Readonly<{
  server: grpc.Server;
  health: HealthService;
  liveCalls: ReadonlySet<CallStream<unknown>>;
  /** Enders of the admin service's open streams (WatchQueue, ExportSessions). */
  adminStreams: ReadonlySet<(status: CallStatus) => void>;
  /** Cleanups of ended streams under way: the store is closed after them. */
  closing: ReadonlySet<Promise<void>>;
  stopTimers: () => void;
  /**
   * Commits what is pending (what still waits for another connection's lock fails), releases what
   * this instance holds (its lease, on PostgreSQL), closes the database (and lets go of its lock).
   */
  closeStore: () => Promise<void>;
  logger: Logger;
}>;

/**
 * SPEC §7 shutdown: health turns NOT_SERVING, new calls are refused, live streams end with
 * UNAVAILABLE, the database is closed. The returned function is safe to call twice; `onStart`
 * runs synchronously first, before any stream ends (their cleanup asks whether we are stopping).
 */
export function gracefulShutdown(parts: ShutdownParts, onStart: () => void): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    onStart();
    return (stopping ??= stop(parts));
  };
}

async function stop({ server, health, liveCalls, adminStreams, closing, stopTimers, closeStore, logger }: ShutdownParts): Promise<void> {
  health.stopServing();
  stopTimers();
  const drained = new Promise<void>((resolve) => server.tryShutdown(() => resolve())); // refuses new calls
  for (const call of [...liveCalls]) call.end({ code: grpc.status.UNAVAILABLE, details: 'the server is shutting down; resume the session shortly' });
  for (const end of [...adminStreams]) end({ code: grpc.status.UNAVAILABLE, details: 'the server is shutting down; call again shortly' });
  // tryShutdown alone waits forever for open streams: cut those whose clients read nothing after a grace period.
  await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref())]);
  server.forceShutdown();
  // Let the streams cut just now detach (grpc-js reports them on the next ticks) before the last commit.
  await new Promise((resolve) => setImmediate(resolve));
  await Promise.race([Promise.allSettled([...closing]), new Promise((resolve) => setTimeout(resolve, CLEANUP_GRACE_MS).unref())]);
  await closeStore();
  logger.info('stopped');
}
