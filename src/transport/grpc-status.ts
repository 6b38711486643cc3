import { status as Status } from '@grpc/grpc-js';
import { ChatError, type ChatErrorKind } from '../domain/chat-error';

/** A gRPC status to end a call with. */
export type CallStatus = Readonly<{ code: Status; details: string }>;

/** The one mapping of domain error kinds to gRPC status codes. */
const codeOfKind: Record<ChatErrorKind, Status> = {
  unauthenticated: Status.UNAUTHENTICATED,
  'permission-denied': Status.PERMISSION_DENIED,
  'invalid-argument': Status.INVALID_ARGUMENT,
  'not-found': Status.NOT_FOUND,
  'failed-precondition': Status.FAILED_PRECONDITION,
  'resource-exhausted': Status.RESOURCE_EXHAUSTED,
  aborted: Status.ABORTED,
  unavailable: Status.UNAVAILABLE,
};

/**
 * Turns anything thrown by a handler into the status the client sees. A ChatError keeps its
 * message; anything else is a bug, reported as INTERNAL without internals (the caller logs it).
 */
export function toCallStatus(error: unknown): CallStatus {
  if (error instanceof ChatError) return { code: codeOfKind[error.kind], details: error.message };
  return { code: Status.INTERNAL, details: 'internal error' };
}

/** The status name for logs, e.g. `RESOURCE_EXHAUSTED`. */
export function statusName(code: Status): string {
  return Status[code] ?? String(code);
}
