import type { Config } from '../config/config';
import type { ChatContext } from '../domain/chat-context';
import type { Metrics } from '../domain/metrics';
import { newSessionId } from '../domain/session-id';
import type { Logger } from '../log/logger';
import { encodedHistoryEntrySize } from '../transport/history-entry-size';
import type { ChatBackend } from './chat-backend';

/** What the domain is given: the backend's ports, the limits, the clock, ids, sizes and where to report. */
export function chatContext({ store, bus, attachments, queue }: ChatBackend, config: Config, logger: Logger, metrics: Metrics): ChatContext {
  return {
    store,
    bus,
    attachments,
    queue,
    limits: {
      maxOpenSessions: config.maxOpenSessions,
      history: { maxBytes: config.maxHistoryBytes, maxEntries: config.maxHistoryEntries },
    },
    now: () => new Date(),
    newSessionId,
    encodedEntrySize: encodedHistoryEntrySize,
    reportError: (error) => logger.error('a background step of a stream failed', { error: error instanceof Error ? error.stack : String(error) }),
    metrics,
  };
}
