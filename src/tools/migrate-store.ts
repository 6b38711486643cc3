/**
 * `npm run migrate-store -- --from sqlite:PATH --to postgres://...`: moves a deployment from
 * SQLite to PostgreSQL (SPEC §8, see move-store.ts). Progress on stdout; a refusal or failure is
 * one line on stderr.
 */
import { isUnavailable } from '../storage/postgres/postgres-connection';
import { MoveRefusedError } from './migrate-store/move-refused';
import { moveStore } from './migrate-store/move-store';
import { parseMigrateStoreOptions, usage, UsageError, type MigrateStoreOptions } from './migrate-store/options';
import { isExistingFile } from './migrate-store/sqlite-source';

/** Refused (database in use, target not empty) or failed: nothing of the source is in the target. */
const EXIT_FAILED = 1;
/** A bad, missing or repeated flag, or a --from that names no file: nothing touched. */
const EXIT_USAGE = 2;

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage() + '\n');
    return 0;
  }
  let options: MigrateStoreOptions;
  try {
    options = parseMigrateStoreOptions(argv);
    // A path that names nothing is a mistyped flag, not an empty deployment: never create it.
    if (!isExistingFile(options.sqliteFile)) throw new UsageError(`--from: no database file at ${options.sqliteFile}`);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`migrate-store: ${error.message}\n`);
    return EXIT_USAGE;
  }
  try {
    await moveStore(options, (line) => process.stdout.write(`migrate-store: ${line}\n`));
    return 0;
  } catch (error) {
    process.stderr.write(`migrate-store: ${describeFailure(error)}\n`);
    return EXIT_FAILED;
  }
}

function describeFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof MoveRefusedError) return `refused: ${message}`;
  if (isUnavailable(error) || (error instanceof Error && isUnavailable(error.cause))) return `failed: the target database does not answer (${message}); nothing was moved`;
  return `failed: ${message}; nothing was moved (the copy is one transaction)`;
}

// Exits explicitly: a connection left open by a failure must not keep the process alive.
void main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`migrate-store: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(EXIT_FAILED);
  },
);
