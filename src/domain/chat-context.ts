import type { Attachments } from './attachments';
import type { EventBus, StreamId } from './event-bus';
import type { QueueEvents } from './queue-events';
import type { HistoryLimits, SessionStore } from './session-store';
import type { ChatError } from './chat-error';
import type { Author, SessionSnapshot } from './entry';
import type { Metrics } from './metrics';

/** The limits the domain enforces (SPEC §6); message text limits are checked at the edge. */
export type ChatLimits = Readonly<{ maxOpenSessions: number; history: HistoryLimits }>;

/** Everything a conversation needs, shared by all streams of one server. */
export type ChatContext = Readonly<{
  store: SessionStore;
  bus: EventBus;
  attachments: Attachments;
  /** Where the queue's changes are published (the admin service's WatchQueue). */
  queue: QueueEvents;
  limits: ChatLimits;
  /** The wall clock (injectable so tests can step it back). */
  now: () => Date;
  newSessionId: () => string;
  /**
   * Bytes an entry adds to a session's encoded history (--max-history-bytes): the wire format is
   * the transport's, so the transport says.
   */
  encodedEntrySize: (date: Date, author: Author, text: string) => number;
  /** Reports a failure of a step no request waits for (a detach after the session ended). */
  reportError: (error: unknown) => void;
  /** Where the domain reports what it did (entries committed, sessions ended idle); `noMetrics` when off. */
  metrics: Metrics;
}>;

/** The transport side of one stream, as a conversation sees it. */
export interface StreamPort<Output> {
  readonly id: StreamId;
  /** Fires once, when the stream ends however it ends; the transport then closes the conversation. */
  readonly signal: AbortSignal;
  /** Queues a response for the client. */
  push(output: Output): void;
  /**
   * Queues the session's snapshot, the reply to a join. Its history is read and encoded in slices
   * between which other clients are served; resolves once it is queued, and rejects if the stream
   * ends meanwhile or the history cannot be read.
   */
  pushSnapshot(snapshot: SessionSnapshot): Promise<void>;
  /** Ends the stream with `error` (another stream took its session over). The transport then closes the conversation. */
  abort(error: ChatError): void;
}
