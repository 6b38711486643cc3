import { z } from 'zod';
import { helpLines, parseFlags, type FlagOption } from '../../config/flag-table';

/** What `migrate-store` was asked to do. */
export type MigrateStoreOptions = Readonly<{
  /** The SQLite database file to copy from (the PATH of `--from sqlite:PATH`). */
  sqliteFile: string;
  /** The PostgreSQL URL to copy to; may hold a password, so never printed as it is (redactedUrl). */
  postgresUrl: string;
  pgSchema: string;
  /** Most rows in one INSERT. */
  batchRows: number;
}>;

/** A bad, missing or repeated flag: the tool prints its message on one line and exits with 2. */
export class UsageError extends Error {}

const options = {
  from: {
    schema: z.string().regex(/^sqlite:.+$/s, 'expected sqlite:PATH').transform((value) => value.slice('sqlite:'.length)),
    help: "sqlite:PATH, the database of a stopped server (required)",
  },
  // Its value is never echoed in an error: the URL may hold a password.
  to: { schema: z.string().refine(isPostgresUrl, 'expected a postgres:// or postgresql:// URL'), help: 'postgres://... URL of the target database (required; or PGPASSWORD for the password)', secret: true },
  pgSchema: { schema: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,54}$/, 'expected a schema name (letters, digits, _)'), default: 'public', help: 'PostgreSQL schema of the tables, created if missing' },
  batchSize: {
    schema: z.string().regex(/^\d+$/, 'expected a whole number').transform(Number).pipe(z.number().min(1).max(50_000)),
    default: '5000',
    help: 'most rows in one INSERT (1 to 50000)',
  },
} satisfies Record<string, FlagOption>;

/** Parses `--name value` / `--name=value` flags; throws UsageError naming the first bad one. */
export function parseMigrateStoreOptions(argv: readonly string[]): MigrateStoreOptions {
  const { values } = parseFlags(options, argv, { fail: (message) => new UsageError(message) });
  return Object.freeze({ sqliteFile: values.from, postgresUrl: values.to, pgSchema: values.pgSchema, batchRows: values.batchSize });
}

/** Usage text for `--help`. */
export function usage(): string {
  const lines = helpLines(options, 12);
  return [
    'usage: npm run migrate-store -- --from sqlite:PATH --to postgres://... [--pg-schema S]',
    '',
    "Copies every session and entry of a stopped server's SQLite database into an empty PostgreSQL",
    'store, in one transaction: the target is left empty if anything fails. Sessions that had an agent',
    'are awaiting one after the move, behind those that were awaiting, as after a restart.',
    '',
    ...lines,
    '',
    'Exit codes: 0 copied; 1 refused (database in use, target not empty) or failed; 2 bad flags.',
  ].join('\n');
}

function isPostgresUrl(value: string): boolean {
  if (!/^postgres(ql)?:\/\//.test(value)) return false;
  try {
    const url = new URL(value);
    return url.hostname !== '' || url.searchParams.has('host');
  } catch {
    return false;
  }
}
