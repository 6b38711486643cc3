import type { ChatClientError } from './chat-client-error';

/** Why a chat object stopped for good. After `closed` it does nothing more. */
export type CloseReasonKind =
  /** The app called `close()`. */
  | 'closed-by-app'
  /** Reconnecting failed until the give-up point (attempts or time). */
  | 'gave-up'
  /** Another stream of the same user took the session over (`ABORTED`); this one must not fight back. */
  | 'taken-over'
  /**
   * The server refused this client for good (`UNAUTHENTICATED`, `PERMISSION_DENIED`, `UNIMPLEMENTED`, ...);
   * after a token expired, the token function's fresh token was refused too.
   */
  | 'refused';

export type CloseReason = Readonly<{
  kind: CloseReasonKind;
  /** The failure that led here; absent when the app closed the chat. */
  error: ChatClientError | undefined;
  /**
   * Messages written to a stream that broke before the library could check, in a resumed history,
   * whether they arrived: they may or may not be in the session.
   */
  unconfirmed: readonly string[];
  /** Messages never written to any stream; their `send()` promises were rejected. */
  unsent: readonly string[];
}>;

/** The state of a chat's connection, reported to the app on every change (event `state`). */
export type ConnectionState =
  /** Not in a session: before `start`/`accept`, after a hang-up, a leave or a session end. */
  | Readonly<{ kind: 'idle' }>
  /** Opening a stream to join a session for the first time. */
  | Readonly<{ kind: 'connecting' }>
  /** In the session; entries flow. */
  | Readonly<{ kind: 'connected'; sessionId: string }>
  /** The stream broke; the next attempt starts after `delayMs`. */
  | Readonly<{ kind: 'reconnecting'; attempt: number; delayMs: number; cause: ChatClientError }>
  | Readonly<{ kind: 'closed'; reason: CloseReason }>;
