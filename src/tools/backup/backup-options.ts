import { z } from 'zod';

/** What `backup` was asked to do. */
export type BackupOptions = Readonly<{
  /** The SQLite database to copy (a live server's, or a stopped one's). */
  db: string;
  /** Where the copy goes; must not exist yet. */
  out: string;
}>;

/** A bad, missing or repeated flag: the tool prints its message on one line and exits with 2. */
export class UsageError extends Error {}

const path = z.string().trim().min(1, 'expected a file path');
const schema = z.object({ db: path, out: path });

/** Parses `--db PATH --out FILE` (`--name=value` too); throws UsageError naming the first bad flag. */
export function parseBackupOptions(argv: readonly string[]): BackupOptions {
  const given: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const match = /^--(db|out)(?:=(.*))?$/s.exec(argv[i]!);
    if (!match) throw new UsageError(`unknown flag ${JSON.stringify(argv[i])} (see --help)`);
    const name = match[1]!;
    if (name in given) throw new UsageError(`flag --${name} given more than once`);
    const value = match[2] ?? argv[++i];
    if (value === undefined) throw new UsageError(`flag --${name} needs a value`);
    given[name] = value;
  }
  for (const name of ['db', 'out']) if (!(name in given)) throw new UsageError(`missing --${name} (see --help)`);
  const parsed = schema.safeParse(given);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`--${String(issue.path[0])}: ${issue.message}`);
  }
  return Object.freeze(parsed.data);
}

export function usage(): string {
  return [
    'usage: npm run backup -- --db PATH --out FILE',
    '  --db PATH   the SQLite database to copy; the server may keep serving meanwhile',
    '  --out FILE  where the copy goes (must not exist); it is checked with PRAGMA integrity_check',
  ].join('\n');
}
