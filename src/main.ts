import { ConfigError, parseConfig, usage } from './config/config';
import { createJsonLogger, type Logger } from './log/logger';
import { handleProcessFaults } from './process-faults';
import { startServer, type RunningServer } from './server/server';
import { DatabaseInUseError } from './storage/server-lock';
import { PortInUseError } from './server/port-check';

/** Exit code for an invalid flag or value (SPEC §7), or a database or port held by another process. */
const EXIT_USAGE = 2;
/** SPEC §7: exit within 10 s of SIGTERM/SIGINT, even if shutting down hangs. */
const SHUTDOWN_DEADLINE_MS = 9000;

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage() + '\n');
    return;
  }
  let config;
  try {
    config = parseConfig(argv, process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`support: ${err.message}\n`);
    process.exit(EXIT_USAGE);
  }
  const logger = createJsonLogger();
  handleProcessFaults(logger);
  // Signals are caught before the server starts: the 'listening' line is written inside
  // startServer, and a supervisor may signal as soon as it reads it.
  let server: RunningServer | undefined;
  let stopRequested: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => (server ? stop(server, signal, logger) : (stopRequested ??= signal));
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  server = await startServer(config, logger).catch((err: unknown) => {
    // The operator's to fix (a flag, another server on --db, another process on --port): one line, exit 2.
    if (err instanceof ConfigError || err instanceof DatabaseInUseError || err instanceof PortInUseError) {
      process.stderr.write(`support: ${err.message}\n`);
      process.exit(EXIT_USAGE);
    }
    logger.error('could not start', { error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
  if (stopRequested) stop(server, stopRequested, logger);
}

/** SPEC §7: stop taking calls, end streams with UNAVAILABLE, close the database, exit 0 within 10 s. */
function stop(server: RunningServer, signal: NodeJS.Signals, logger: Logger): void {
  logger.info('shutting down', { signal });
  setTimeout(() => {
    logger.error('shutdown took too long; exiting');
    process.exit(1);
  }, SHUTDOWN_DEADLINE_MS).unref();
  server.shutdown().then(
    () => process.exit(0),
    (err: unknown) => {
      logger.error('shutdown failed', { error: err instanceof Error ? err.stack : String(err) });
      process.exit(1);
    },
  );
}

void main(process.argv.slice(2));
