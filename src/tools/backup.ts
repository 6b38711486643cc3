/**
 * `npm run backup -- --db PATH --out FILE`: a consistent copy of a SQLite database, taken while
 * its server keeps serving, and checked (see backup-database.ts). One line on stdout when done;
 * a refusal or failure is one line on stderr and a non-zero exit. README, "Backup and restore".
 */
import { backupDatabase, BackupFailedError } from './backup/backup-database';
import { parseBackupOptions, usage, UsageError, type BackupOptions } from './backup/backup-options';

/** The copy failed or is not sound: nothing is left at --out. */
const EXIT_FAILED = 1;
/** A bad, missing or repeated flag: nothing done. */
const EXIT_USAGE = 2;

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage() + '\n');
    return 0;
  }
  let options: BackupOptions;
  try {
    options = parseBackupOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`backup: ${error.message}\n`);
    return EXIT_USAGE;
  }
  try {
    const result = await backupDatabase(options.db, options.out);
    const mib = (result.bytes / 2 ** 20).toFixed(1);
    process.stdout.write(`backup: ${options.db} copied to ${options.out} (${result.pages} pages, ${mib} MiB) in ${Math.round(result.milliseconds)} ms; integrity_check ok\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof BackupFailedError)) throw error;
    process.stderr.write(`backup: failed: ${error.message}\n`);
    return EXIT_FAILED;
  }
}

void main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`backup: failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(EXIT_FAILED);
  },
);
