import type { ChatClientError } from './chat-client-error';
import type { ChatEntry } from './chat-entry';
import type { ConnectionState } from './connection-state';

/** How a session ended for this chat. */
export type SessionEnd = Readonly<{
  sessionId: string;
  /**
   * `hung-up`: this customer hung up. `ended`: the session ended otherwise (the customer hung up,
   * seen by an agent; or the server ended it, possibly while the stream was down). `not-found`: on
   * reconnecting, the server no longer knew the session.
   */
  reason: 'hung-up' | 'ended' | 'not-found';
}>;

/** A message the server refused (e.g. too long for its limit, or the history is full); it is not in the session. */
export type RejectedMessage = Readonly<{ text: string; error: ChatClientError }>;

/** The events of `CustomerChat` and `AgentChat` (Node `EventEmitter` events, typed). */
export type ChatEvents = {
  /**
   * An entry this app has not seen: at start/resume/accept every entry of the history, then every
   * entry by someone else, once, in history order, across reconnects. The app's own messages are
   * not repeated (it sent them).
   */
  entry: [entry: ChatEntry];
  sessionEnded: [end: SessionEnd];
  state: [state: ConnectionState];
  messageRejected: [rejected: RejectedMessage];
};

/** The same events as one union, for `for await (const event of chat.events())`. */
export type ChatEvent =
  | Readonly<{ type: 'entry'; entry: ChatEntry }>
  | Readonly<{ type: 'sessionEnded'; end: SessionEnd }>
  | Readonly<{ type: 'state'; state: ConnectionState }>
  | Readonly<{ type: 'messageRejected'; rejected: RejectedMessage }>;
