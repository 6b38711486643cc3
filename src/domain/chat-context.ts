import type { Attachments } from './attachments';
import type { EventBus, StreamId } from './event-bus';
import type { SessionStore } from './session-store';
import type { ChatError } from './chat-error';

/** The limits the domain enforces (SPEC §6); message text limits are checked at the edge. */
export type ChatLimits = Readonly<{ maxOpenSessions: number; maxHistoryBytes: number }>;

/** Everything a conversation needs, shared by all streams of one server. */
export type ChatContext = Readonly<{
  store: SessionStore;
  bus: EventBus;
  attachments: Attachments;
  limits: ChatLimits;
  /** The wall clock (injectable so tests can step it back). */
  now: () => Date;
  newSessionId: () => string;
}>;

/** The transport side of one stream, as a conversation sees it. */
export interface StreamPort<Output> {
  readonly id: StreamId;
  /** Queues a response for the client. */
  push(output: Output): void;
  /** Ends the stream with `error` (another stream took its session over). The transport then closes the conversation. */
  abort(error: ChatError): void;
}
