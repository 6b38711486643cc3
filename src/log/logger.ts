import { failoverWriter } from './failover-writer';

/** Fields of one log line. Never put message text or credentials here. */
export type LogFields = Record<string, string | number | boolean | undefined>;

/** Structured logger: one JSON object per line on stdout. */
export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/**
 * A logger writing JSON lines to `out`: by default stdout, or stderr once stdout has failed (its
 * reader is gone), or nowhere once both have; logging never throws or stops the server.
 */
export function createJsonLogger(out?: (line: string) => void): Logger {
  const write = (level: string, msg: string, fields?: LogFields) =>
    sink(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n');
  const logger: Logger = {
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
  };
  const sink =
    out ??
    failoverWriter(
      [
        { name: 'stdout', stream: process.stdout },
        { name: 'stderr', stream: process.stderr },
      ],
      (failed, error) => logger.error(`cannot write the log to ${failed} any more; logging to stderr`, { error: error.message }),
    );
  return logger;
}
