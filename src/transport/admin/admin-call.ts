import { status as Status, type handleServerStreamingCall, type handleUnaryCall, type Metadata, type ServerWritableStream } from '@grpc/grpc-js';
import { AuthenticationError, credentialExpired, requireAdmin, type Authenticator, type Identity } from '../../auth/identity';
import type { LogFields, Logger } from '../../log/logger';
import { atMoment } from '../at-moment';
import { statusName, toCallStatus, type CallStatus } from '../grpc-status';
import { decodeFailureOf } from '../strict-decoding';
import { ChatError } from '../../domain/chat-error';

/** What every admin call shares. */
export type AdminEnvironment = Readonly<{
  authenticator: Authenticator;
  logger: Logger;
  /** Enders of the admin streams still open (WatchQueue, ExportSessions), so that shutdown can end them. */
  liveStreams: Set<(status: CallStatus) => void>;
}>;

/** A streaming method's body: writes to `call` until done; `signal` fires when the call ends in any way. */
export type AdminStreamBody<Req, Res> = (request: Req, call: ServerWritableStream<Req, Res>, signal: AbortSignal, admin: Identity) => Promise<void>;

/**
 * A unary admin method: admits admins only (SPEC §1; decided from the metadata alone, before the
 * request is looked at), runs `body`, answers with its result or the status of what it threw, and
 * logs one line per call.
 */
export function unaryAdminMethod<Req extends object, Res>(env: AdminEnvironment, body: (request: Req, admin: Identity) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const log = callLog(env.logger, call.getPath(), call.getPeer());
    void (async () => {
      const admin = await admit(env.authenticator, call.metadata, log.fields);
      return body(decoded(call.request), admin);
    })().then(
      (response) => {
        log.ended(Status.OK);
        callback(null, response);
      },
      (err: unknown) => {
        const status = log.failed(err);
        callback({ code: status.code, details: status.details });
      },
    );
  };
}

/**
 * A server-streaming admin method, admitted as a unary one. The stream ends with OK once `body`
 * resolves, with the status of what it threw, with UNAUTHENTICATED when the admin's token expires,
 * or with UNAVAILABLE at shutdown.
 */
export function streamingAdminMethod<Req extends object, Res>(env: AdminEnvironment, body: AdminStreamBody<Req, Res>): handleServerStreamingCall<Req, Res> {
  return (call) => {
    const log = callLog(env.logger, call.getPath(), call.getPeer());
    const controller = new AbortController();
    let ended = false;
    const end = (status: CallStatus) => {
      if (ended) return;
      ended = true;
      env.liveStreams.delete(end);
      controller.abort();
      log.ended(status.code);
      endStream(call, status);
    };
    env.liveStreams.add(end);
    call.once('cancelled', () => end({ code: Status.CANCELLED, details: 'cancelled by the client' }));
    void (async () => {
      const admin = await admit(env.authenticator, call.metadata, log.fields);
      if (admin.expiresAt !== undefined) {
        atMoment(admin.expiresAt, controller.signal, () => end(log.failed(credentialExpired())));
      }
      await body(decoded(call.request), call, controller.signal, admin);
    })().then(
      () => end({ code: Status.OK, details: 'OK' }),
      (err: unknown) => end(log.failed(err)),
    );
  };
}

/** The caller's identity if it is an admin; UNAUTHENTICATED or PERMISSION_DENIED otherwise. */
export async function admit(authenticator: Authenticator, metadata: Metadata, fields: LogFields): Promise<Identity> {
  const identity = await authenticator.identify(metadata);
  fields.user = identity.userId; // before the role check: the log says who was refused, for an audit
  return requireAdmin(identity, authenticator.adminHint);
}

/** The request, or INVALID_ARGUMENT if its bytes could not be decoded (strict-decoding.ts). */
function decoded<Req extends object>(request: Req): Req {
  const failure = decodeFailureOf(request);
  if (failure !== undefined) throw new ChatError('invalid-argument', `the request could not be decoded: ${failure}`);
  return request;
}

/** The one log line of an admin call, at its end: method, peer, user, code, duration. */
function callLog(logger: Logger, method: string, peer: string) {
  const startedAt = performance.now();
  const fields: LogFields = { method, peer, user: undefined };
  let logged = false;
  const ended = (code: Status, extra: LogFields = {}) => {
    if (logged) return;
    logged = true;
    const duration_ms = Math.round(performance.now() - startedAt);
    const line = { ...fields, ...extra, code: statusName(code), duration_ms };
    if (code === Status.INTERNAL) logger.error('admin call failed', line);
    else logger.info('admin call ended', line);
  };
  const failed = (err: unknown): CallStatus => {
    const status = toCallStatus(err);
    // Why a credential failed is for the operator, never for the caller.
    const extra: LogFields = err instanceof AuthenticationError ? { auth_failure: err.reason } : {};
    if (status.code === Status.INTERNAL) extra.error = err instanceof Error ? err.stack : String(err);
    ended(status.code, extra);
    return status;
  };
  return { fields, ended, failed };
}

/** Ends a server stream with `status`, after the responses already written. */
export function endStream(call: ServerWritableStream<unknown, unknown>, status: CallStatus): void {
  // grpc-js turns an 'error' event into the call's status, sent once the queued writes are out.
  if (status.code === Status.OK) call.end();
  else call.emit('error', Object.assign(new Error(status.details), status));
}
