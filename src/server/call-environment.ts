import type { Authenticator } from '../auth/identity';
import type { Config } from '../config/config';
import type { Metrics } from '../domain/metrics';
import type { Logger } from '../log/logger';
import { EncodedHistoryCache } from '../transport/encoded-history-cache';
import { JoinRateLimiter } from '../transport/join-rate-limiter';
import { OutboundBudget } from '../transport/outbound-budget';
import type { CallEnvironment } from '../transport/serve-call';
import { SliceScheduler } from '../transport/slice-scheduler';
import { SnapshotEncoder } from '../transport/snapshot-encoder';
import { UserStreams } from '../transport/user-streams';
import type { ServerTuning } from './server';

/** Encoded histories kept for sessions joined again (encoded-history-cache.ts), beside --max-buffered-bytes. */
const ENCODED_HISTORY_CACHE_BYTES = 64 * 1024 * 1024;

/** What every chat call of this server shares: limits, budgets, rate limits, the snapshot encoder, the live calls. */
export function callEnvironment(config: Config, tuning: ServerTuning, authenticator: Authenticator, logger: Logger, instanceId: string, isStopping: () => boolean, metrics: Metrics): CallEnvironment {
  // A few full histories' worth of bytes per stream, beside --stream-queue responses.
  const limits = { responses: config.streamQueue, bytes: 4 * config.maxHistoryBytes, resetAfterEndMs: tuning.resetAfterEndMs };
  return {
    authenticator,
    logger,
    requestRate: { perSecond: config.maxMessagesPerSecond, burst: config.messageBurst },
    outbound: { limits, budget: new OutboundBudget(config.maxBufferedBytes), metrics },
    userStreams: new UserStreams(config.maxStreamsPerUser),
    joins: new JoinRateLimiter(config.maxJoinsPerMinute),
    snapshots: new SnapshotEncoder(new SliceScheduler(), new EncodedHistoryCache(ENCODED_HISTORY_CACHE_BYTES)),
    liveCalls: new Set(),
    closing: new Set(),
    newStreamId: streamIdsOf(instanceId),
    isStopping,
    metrics,
  };
}

/** Stream ids `<instance>.<n>`: the instance part, random per process, makes them unique over a deployment. */
function streamIdsOf(instanceId: string): () => string {
  let last = 0;
  return () => `${instanceId}.${++last}`;
}
