/**
 * The kinds of failure the chat domain reports. Each maps to exactly one gRPC status code, in
 * `transport/grpc-status.ts`; the domain itself knows nothing of gRPC. A bug is no kind: anything
 * thrown that is not a ChatError becomes INTERNAL there.
 */
export type ChatErrorKind =
  /** Missing, repeated or malformed credentials. */
  | 'unauthenticated'
  /** A customer on the agent method, or an agent on the customer method. */
  | 'permission-denied'
  /** A request that no state could accept: empty oneof, bad text, over-long id. */
  | 'invalid-argument'
  /** A session that does not exist, or is not this customer's (the two are indistinguishable). */
  | 'not-found'
  /** A request that this stream's state does not allow now: init twice, msg while disconnected, ended session. */
  | 'failed-precondition'
  /** A limit: open sessions, history size, outbound queue. */
  | 'resource-exhausted'
  /** Another stream of the same user took this stream's session over. */
  | 'aborted'
  /** The server is shutting down, or its store cannot be reached. */
  | 'unavailable';

/** The one error type of the domain: a kind and a message that is safe to show the client. */
export class ChatError extends Error {
  constructor(
    readonly kind: ChatErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'ChatError';
  }
}
