import type { Logger } from './log/logger';

/**
 * What the server process does with a fault that no code caught.
 * - An unhandled promise rejection is logged as an error line with its stack, and the server goes
 *   on: it is one forgotten `catch`, and Node's default (exit) would drop every live stream of
 *   every client for it.
 * - An uncaught exception is logged and the process exits with 1: a throw that unwound an unknown
 *   part of the server may have left its state corrupt; the supervisor restarts it, and clients
 *   resume their sessions.
 * Logging here never throws (a second fault inside the handler would make Node exit with 7
 * instead, or turn a logged rejection into an exit).
 */
export function handleProcessFaults(logger: Logger): void {
  process.on('unhandledRejection', (reason) => logSafely(logger, 'unhandled promise rejection', reason));
  process.on('uncaughtException', (error) => {
    logSafely(logger, 'uncaught exception', error);
    process.exit(1);
  });
}

function logSafely(logger: Logger, msg: string, fault: unknown): void {
  try {
    logger.error(msg, { error: describe(fault) });
  } catch {
    // Nowhere left to say it.
  }
}

/** The stack of an Error (which holds its message), or the thrown value as text. */
function describe(fault: unknown): string {
  if (fault instanceof Error) return fault.stack ?? `${fault.name}: ${fault.message}`;
  try {
    return String(fault);
  } catch {
    return Object.prototype.toString.call(fault); // e.g. an object without a prototype
  }
}
