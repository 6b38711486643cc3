import { parseArgs } from 'node:util';
import { z } from 'zod';

/**
 * One option of a command line, declared once: its zod rule (the value arrives as a string), its
 * default, its help line. A switch takes no value (`--tls`; `--tls=false` to say so). A secret's
 * value never appears in an error (a URL holding a password).
 */
export type FlagOption = Readonly<{ schema: z.ZodType; default?: string; help: string; switch?: true; secret?: true }>;

/** The rule of a switch's value: alone it is 'true'; `=false` / `=0` turn it off. */
export const switchValue = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

/** The options of one program, by camelCase name: `maxMessageBytes` is `--max-message-bytes`. */
export type FlagTable = Readonly<Record<string, FlagOption>>;

export type FlagSources = Readonly<{
  /** Environment variables `<prefix>NAME` under the flags (the server's `SUPPORT_`); none when absent. */
  env?: Readonly<{ vars: NodeJS.ProcessEnv; prefix: string }>;
  /** The error for a bad command line; its message is printed on one line. */
  fail: (message: string) => Error;
}>;

export type ParsedFlags<T extends FlagTable> = Readonly<{
  values: { [K in keyof T]: z.output<T[K]['schema']> };
  /** The options given by a flag or a variable, not left to their default. */
  given: ReadonlySet<keyof T & string>;
}>;

/**
 * Reads `--name value` / `--name=value` flags (Node's `util.parseArgs`), over environment
 * variables, over defaults, and checks each value with its rule. Throws `sources.fail` naming the
 * first unknown, repeated, valueless or invalid flag.
 */
export function parseFlags<T extends FlagTable>(table: T, argv: readonly string[], sources: FlagSources): ParsedFlags<T> {
  const flags = readFlags(table, argv, sources.fail);
  const values: Record<string, unknown> = {};
  const given = new Set<keyof T & string>();
  for (const name of Object.keys(table) as (keyof T & string)[]) {
    const option = table[name]!;
    const variable = sources.env ? envName(sources.env.prefix, name) : undefined;
    const fromEnv = variable === undefined ? undefined : sources.env!.vars[variable];
    const fromFlag = flags.get(name);
    if (fromFlag !== undefined || fromEnv !== undefined) given.add(name);
    const value = fromFlag ?? fromEnv ?? option.default;
    const parsed = option.schema.safeParse(value);
    if (parsed.success) {
      values[name] = parsed.data;
      continue;
    }
    if (value === undefined) throw sources.fail(`missing --${flagName(name)} (see --help)`);
    const source = fromFlag !== undefined ? `--${flagName(name)}` : fromEnv !== undefined ? variable : `default of --${flagName(name)}`;
    const shown = option.secret ? '' : ` ${JSON.stringify(value)}`;
    throw sources.fail(`invalid value${shown} for ${source}: ${parsed.error.issues[0]?.message}`);
  }
  return { values: values as ParsedFlags<T>['values'], given };
}

/** The help lines of `table`: flag, help, default, and the variable when there are variables. */
export function helpLines(table: FlagTable, width: number, envPrefix?: string): string[] {
  return Object.entries(table).map(([name, option]) => {
    const notes = [option.default === undefined ? '' : `default ${option.default}`, envPrefix === undefined ? '' : `env ${envName(envPrefix, name)}`].filter(Boolean);
    return `  --${flagName(name).padEnd(width)} ${option.help}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
  });
}

/** `maxMessageBytes` → `max-message-bytes`. */
export function flagName(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `maxMessageBytes` with prefix `SUPPORT_` → `SUPPORT_MAX_MESSAGE_BYTES`. */
export function envName(prefix: string, name: string): string {
  return prefix + flagName(name).replace(/-/g, '_').toUpperCase();
}

/** The flags given, by option name, as strings (a switch alone is 'true'). */
function readFlags(table: FlagTable, argv: readonly string[], fail: (message: string) => Error): Map<string, string> {
  const byFlag = new Map(Object.keys(table).map((name) => [flagName(name), name]));
  const options = Object.fromEntries(
    Object.entries(table).map(([name, option]) => [flagName(name), { type: option.switch ? ('boolean' as const) : ('string' as const) }]),
  );
  // Not strict: its errors are worded for another tool; the tokens say all, and the checks below word them.
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const flags = new Map<string, string>();
  for (const token of tokens) {
    if (token.kind !== 'option') throw fail(`unknown flag ${JSON.stringify(token.kind === 'positional' ? redacted(token.value) : '--')} (see --help)`);
    const name = byFlag.get(token.name);
    // Only long flags: `-p` is no short form of anything.
    if (name === undefined || !token.rawName.startsWith('--')) {
      throw fail(`unknown flag ${JSON.stringify(token.rawName)} (see --help)`);
    }
    if (flags.has(name)) throw fail(`flag ${token.rawName} given more than once`);
    // A switch alone means "on"; it takes a value only after '='. Another flag is no value.
    const value = token.value ?? (table[name]!.switch ? 'true' : undefined);
    if (value === undefined || (!token.inlineValue && value.startsWith('--'))) throw fail(`flag ${token.rawName} needs a value`);
    flags.set(name, value);
  }
  return flags;
}

/** A stray argument as an error may show it: a URL without its password. */
function redacted(arg: string): string {
  try {
    const url = new URL(arg);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return arg;
  }
}
