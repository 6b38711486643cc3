import { status as Status, type ServerDuplexStream } from '@grpc/grpc-js';
import type { LogFields, Logger } from '../log/logger';
import { ChatError } from '../domain/chat-error';
import type { StreamId } from '../domain/event-bus';
import type { Metrics } from '../domain/metrics';
import { CallStream, type Outbound } from './call-stream';
import { statusName, toCallStatus } from './grpc-status';
import { AuthenticationError, credentialExpired, requireRole, type Authenticator, type Identity } from '../auth/identity';
import { atMoment } from './at-moment';
import type { JoinRateLimiter } from './join-rate-limiter';
import type { RequestRate } from './request-throttle';
import type { SnapshotEncoder } from './snapshot-encoder';
import type { UserStreams } from './user-streams';

/** What every chat call shares: authentication, the logger, the stream limits, and what shutdown needs. */
export type CallEnvironment = Readonly<{
  authenticator: Authenticator;
  logger: Logger;
  requestRate: RequestRate;
  outbound: Outbound;
  userStreams: UserStreams;
  joins: JoinRateLimiter;
  snapshots: SnapshotEncoder;
  liveCalls: Set<CallStream<unknown>>;
  /** The cleanups of ended streams still under way (shutdown waits for them before closing the store). */
  closing: Set<Promise<void>>;
  /** A new stream id, unique over the deployment. */
  newStreamId: () => StreamId;
  /** True once the server has begun to shut down. */
  isStopping: () => boolean;
  metrics: Metrics;
}>;

/** The body of a call: runs until the client half-closes; `sessionOf` tells the log line the session. */
export type CallBody<Req> = (
  stream: CallStream<Req>,
  identity: Identity,
  reportSession: (sessionOf: () => string | undefined) => void,
) => Promise<void>;

/**
 * Runs one bidirectional chat call: authenticates it from the metadata alone (before reading any
 * request), logs its start and end, runs `body`, and ends the call with OK or the status of what
 * it threw. Unexpected errors become INTERNAL, logged with their stack, never shown to the client.
 */
export async function serveCall<Req, Res>(
  call: ServerDuplexStream<Req, Res>,
  env: CallEnvironment,
  role: Exclude<Identity['role'], 'admin'>, // the chat's roles; the admin service has its own gate
  body: CallBody<Req>,
): Promise<void> {
  const startedAt = performance.now();
  const method = call.getPath();
  const fields: LogFields = { method, peer: call.getPeer(), user: undefined };
  let sessionOf: () => string | undefined = () => undefined;
  let countedUser: string | undefined;
  const stream = new CallStream(env.newStreamId(), call, env.outbound, (status) => {
    env.liveCalls.delete(stream);
    env.metrics.streamClosed(role, method, statusName(status.code));
    if (countedUser !== undefined) env.userStreams.close(countedUser);
    const duration_ms = Math.round(performance.now() - startedAt);
    env.logger.info('stream ended', { ...fields, session: sessionOf(), code: statusName(status.code), duration_ms });
  });
  env.liveCalls.add(stream);
  env.metrics.streamOpened(role);
  try {
    const { authenticator } = env;
    const identity = requireRole(await authenticator.identify(call.metadata), role, authenticator.roleHint);
    if (stream.signal.aborted) return; // the client went away while its token was being verified
    fields.user = identity.userId;
    env.logger.info('stream started', fields);
    if (!env.userStreams.tryOpen(identity.userId)) {
      throw new ChatError('resource-exhausted', 'this user has too many streams open; close one first');
    }
    countedUser = identity.userId;
    if (identity.expiresAt !== undefined) endAtExpiry(stream, identity.expiresAt, fields, env.metrics);
    await body(stream, identity, (report) => (sessionOf = report));
    stream.end({ code: Status.OK, details: 'OK' });
  } catch (err) {
    if (!fields.user) env.logger.info('stream started', fields);
    // Why a credential failed is for the operator (on the end line), never for the caller.
    if (err instanceof AuthenticationError) {
      fields.auth_failure = err.reason;
      env.metrics.authenticationFailed(err.reason);
    }
    const status = toCallStatus(err);
    if (status.code === Status.INTERNAL) {
      env.logger.error('stream failed', { ...fields, session: sessionOf(), error: err instanceof Error ? err.stack : String(err) });
    }
    stream.end(status);
  }
}

/**
 * Ends the call with UNAUTHENTICATED once its credential expires: a token that can no longer open a
 * stream must not keep one open (a revoked agent would go on reading every entry). The end line
 * says why; the timer goes with the call, however it ends.
 */
function endAtExpiry(stream: CallStream<unknown>, expiresAt: number, fields: LogFields, metrics: Metrics): void {
  atMoment(expiresAt, stream.signal, () => {
    const expired = credentialExpired();
    fields.auth_failure = expired.reason;
    metrics.authenticationFailed(expired.reason);
    stream.end(toCallStatus(expired));
  });
}
