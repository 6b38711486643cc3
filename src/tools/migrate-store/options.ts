import { z } from 'zod';

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

type Option = { schema: z.ZodType; default?: string; help: string; secret?: true };

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
} satisfies Record<string, Option>;

type OptionName = keyof typeof options;

/** Parses `--name value` / `--name=value` flags; throws UsageError naming the first bad one. */
export function parseMigrateStoreOptions(argv: readonly string[]): MigrateStoreOptions {
  const given = parseFlags(argv);
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(options) as OptionName[]) {
    const option: Option = options[name];
    const value = given.get(name) ?? option.default;
    if (value === undefined) throw new UsageError(`missing --${flagName(name)} (see --help)`);
    const parsed = option.schema.safeParse(value);
    if (!parsed.success) {
      const shown = option.secret ? '' : ` ${JSON.stringify(value)}`;
      throw new UsageError(`invalid value${shown} for --${flagName(name)}: ${parsed.error.issues[0]?.message}`);
    }
    values[name] = parsed.data;
  }
  return Object.freeze({ sqliteFile: values.from as string, postgresUrl: values.to as string, pgSchema: values.pgSchema as string, batchRows: values.batchSize as number });
}

/** Usage text for `--help`. */
export function usage(): string {
  const lines = (Object.keys(options) as OptionName[]).map((name) => {
    const option: Option = options[name];
    return `  --${flagName(name).padEnd(12)} ${option.help}${option.default === undefined ? '' : ` (default ${option.default})`}`;
  });
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

function parseFlags(argv: readonly string[]): Map<OptionName, string> {
  const byFlag = new Map((Object.keys(options) as OptionName[]).map((name) => [flagName(name), name]));
  const flags = new Map<OptionName, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/s.exec(arg);
    const name = match ? byFlag.get(match[1]!) : undefined;
    if (!match || !name) throw new UsageError(`unknown flag ${JSON.stringify(shown(arg))} (see --help)`);
    if (flags.has(name)) throw new UsageError(`flag --${match[1]} given more than once`);
    const value = match[2] ?? argv[++i];
    if (value === undefined || (match[2] === undefined && value.startsWith('--'))) throw new UsageError(`flag --${match[1]} needs a value`);
    flags.set(name, value);
  }
  return flags;
}

/** An argument as an error may show it: a flag without its value, a URL without its password. */
function shown(arg: string): string {
  if (arg.startsWith('--')) return arg.replace(/=.*$/s, '=…');
  try {
    const url = new URL(arg);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return arg;
  }
}

function flagName(name: OptionName): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
