import type { ChatContext } from '../domain/chat-context';
import { endIdleSessions } from '../domain/idle-sessions';
import type { Logger } from '../log/logger';

/**
 * Runs `endIdleSessions` at start-up and then periodically: every quarter of the timeout, between
 * 250 ms (small timeouts in tests) and one minute. Returns a function that stops it.
 */
export function startIdleSweeper(context: ChatContext, idleTimeoutMs: number, logger: Logger): () => void {
  let running = false;
  const sweep = async () => {
    if (running) return; // a slow sweep is never overlapped by the next
    running = true;
    try {
      const ended = await endIdleSessions(context, idleTimeoutMs);
      if (ended > 0) logger.info('ended idle sessions', { sessions: ended });
    } catch (err) {
      logger.error('idle sweep failed', { error: err instanceof Error ? err.stack : String(err) });
    } finally {
      running = false;
    }
  };
  void sweep();
  const timer = setInterval(() => void sweep(), Math.min(60_000, Math.max(250, idleTimeoutMs / 4)));
  timer.unref();
  return () => clearInterval(timer);
}
