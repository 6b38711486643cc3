/** Fields of one log line. Never put message text or credentials here. */
export type LogFields = Record<string, string | number | boolean | undefined>;

/** Structured logger: one JSON object per line on stdout. */
export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** A logger writing JSON lines to `out` (stdout by default). */
export function createJsonLogger(out: (line: string) => void = (line) => process.stdout.write(line)): Logger {
  const write = (level: string, msg: string, fields?: LogFields) =>
    out(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n');
  return {
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
  };
}

