// The admin command line: `npm run admin -- --user admin-ops [--server HOST:PORT] COMMAND ...`.
import { status as Status, type ServiceError } from '@grpc/grpc-js';
import { ChatClientError } from '../client';
import { openAdminConnection } from './admin-connection';
import { runAdminCommand } from './admin-commands';
import { adminUsage, parseAdminCommandLine, type AdminCommandLine } from './admin-options';
import { UsageError } from './cli-options';
import { oneLine } from '../text/untrusted-text';

/** Exit codes: 0 done, 1 refused or failed (the server's reason on standard error), 2 a bad command line. */
async function main(argv: string[]): Promise<number> {
  // The reader of standard output went away (`| head`): nothing more to print, and no error to report.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
  });
  if (argv.includes('--help')) return (process.stdout.write(`${adminUsage()}\n`), 0);
  let line: AdminCommandLine;
  let connection;
  try {
    line = parseAdminCommandLine(argv);
    connection = openAdminConnection(line.connection);
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof ChatClientError)) throw err;
    process.stderr.write(`admin: ${err.message}\n`);
    return 2;
  }
  try {
    await runAdminCommand(connection, line, { out: process.stdout, note: (note) => process.stderr.write(`${note}\n`) });
    return 0;
  } catch (err) {
    if (err instanceof UsageError) return (process.stderr.write(`admin: ${err.message}\n`), 2);
    if (!isServiceError(err)) throw err;
    // The server's reason, as it gave it (made safe to print: it may quote what was sent).
    process.stderr.write(`admin: ${Status[err.code] ?? err.code}: ${oneLine(err.details)}\n`);
    return 1;
  } finally {
    connection.client.close();
  }
}

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number' && typeof (err as Partial<ServiceError>).details === 'string';
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`admin: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
