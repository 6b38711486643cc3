import { status as Status } from '@grpc/grpc-js';

/**
 * The one error type of the client library: a gRPC status code and a message that is safe to show.
 * Every failure the library reports (a rejected promise, a close reason, a refused message) is one.
 */
export class ChatClientError extends Error {
  constructor(
    /** The gRPC status code: the server's, or the one that best describes a local failure. */
    readonly code: Status,
    message: string,
  ) {
    super(message);
    this.name = 'ChatClientError';
  }

  /** The status name, e.g. `UNAVAILABLE`. */
  get codeName(): string {
    return Status[this.code] ?? String(this.code);
  }

  /** Wraps anything thrown or emitted (a grpc-js status, an Error, a string) into a ChatClientError. */
  static from(cause: unknown): ChatClientError {
    if (cause instanceof ChatClientError) return cause;
    if (isStatusLike(cause)) return new ChatClientError(cause.code, `${Status[cause.code]}: ${cause.details}`);
    const message = cause instanceof Error ? cause.message : String(cause);
    return new ChatClientError(Status.UNKNOWN, message);
  }
}

function isStatusLike(value: unknown): value is { code: Status; details: string } {
  return typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'number' && 'details' in value;
}
