import { status as Status } from '@grpc/grpc-js';

/** What one finished call means for the chat. */
export type CallVerdict =
  /** It ended as intended: the app left or hung up, or the server ended the session. */
  | { kind: 'done' }
  /** A break: reconnect and resume. `rejectHead`: the server refused the first message not in the history. */
  | { kind: 'retry'; rejectHead: boolean }
  /** The server refused the app's own start/resume/accept (empty queue, unknown or ended session, limits). */
  | { kind: 'join-refused' }
  /** On reconnecting, the session turned out to have ended, or to be gone, while the stream was down. */
  | { kind: 'session-gone'; reason: 'ended' | 'not-found' }
  /** Stop for good. */
  | { kind: 'fatal'; reason: 'taken-over' | 'refused' };

/** What happened on the call, besides its status. */
export type CallFacts = Readonly<{
  code: Status;
  /** The server answered the join on this call. */
  joined: boolean;
  /** No session yet: this is the app's start/resume/accept, not a reconnect. */
  firstJoin: boolean;
  /** The join reply did not come in time; the client cancelled. */
  timedOut: boolean;
  /** The server said session_ended on this call. */
  sessionEnded: boolean;
  /** The app asked to leave; `halfClosed`: the leave request was written and the call half-closed. */
  leaving: boolean;
  halfClosed: boolean;
  leaveNeedsServer: boolean;
  /** Messages written on this call and not yet known to be in the history. */
  writtenMessages: number;
  /** The credentials give a fresh token for each call (a token function), not always the same one. */
  renewableToken: boolean;
}>;

const FATAL: ReadonlySet<Status> = new Set([Status.UNAUTHENTICATED, Status.PERMISSION_DENIED, Status.UNIMPLEMENTED]);
/** Codes with which the server refuses a join for a reason that retrying does not fix. */
const JOIN_REFUSALS: ReadonlySet<Status> = new Set([
  Status.NOT_FOUND,
  Status.FAILED_PRECONDITION,
  Status.INVALID_ARGUMENT,
  Status.RESOURCE_EXHAUSTED,
  Status.OUT_OF_RANGE,
]);

/**
 * Decides from a call's end whether to reconnect. Everything not known to be final is retried:
 * UNAVAILABLE (server restart, connection refused), CANCELLED and INTERNAL (a connection torn down
 * mid-stream), DEADLINE_EXCEEDED, and a RESOURCE_EXHAUSTED that cut a slow reader (all it missed is
 * in the history).
 */
export function verdictOf(facts: CallFacts): CallVerdict {
  if (facts.sessionEnded) return { kind: 'done' };
  if (facts.leaving && (!facts.leaveNeedsServer || (facts.halfClosed && facts.code === Status.OK))) return { kind: 'done' };
  if (facts.code === Status.ABORTED) return { kind: 'fatal', reason: 'taken-over' };
  // The server ends a joined stream when its token expires: the next call asks for a fresh one.
  // UNAUTHENTICATED before a join (that fresh token refused too) stays final.
  if (facts.code === Status.UNAUTHENTICATED && facts.joined && facts.renewableToken) return { kind: 'retry', rejectHead: false };
  if (FATAL.has(facts.code)) return { kind: 'fatal', reason: 'refused' };
  if (facts.timedOut) return { kind: 'retry', rejectHead: false };
  if (!facts.joined) return joinVerdict(facts);
  // The server ends a stream whose message it refuses (bad text, history full); the refused one
  // is the first that is not in the history.
  const refusal = facts.code === Status.INVALID_ARGUMENT || facts.code === Status.RESOURCE_EXHAUSTED;
  return { kind: 'retry', rejectHead: refusal && facts.writtenMessages > 0 };
}

function joinVerdict(facts: CallFacts): CallVerdict {
  if (facts.firstJoin) return JOIN_REFUSALS.has(facts.code) ? { kind: 'join-refused' } : { kind: 'retry', rejectHead: false };
  if (facts.code === Status.FAILED_PRECONDITION) return { kind: 'session-gone', reason: 'ended' };
  if (facts.code === Status.NOT_FOUND) return { kind: 'session-gone', reason: 'not-found' };
  if (facts.code === Status.INVALID_ARGUMENT) return { kind: 'fatal', reason: 'refused' };
  return { kind: 'retry', rejectHead: false };
}
