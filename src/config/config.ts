import { z } from 'zod';

/** The server's configuration: every option of SPEC §6-7, parsed once, validated, frozen. */
export type Config = Readonly<{
  host: string;
  port: number;
  db: string;
  maxMessageBytes: number;
  maxHistoryBytes: number;
  maxOpenSessions: number;
  streamQueue: number;
  maxStreamsPerConnection: number;
  idleTimeoutSeconds: number;
  sqliteSync: 'normal' | 'full';
  keepaliveSeconds: number;
  keepaliveTimeoutSeconds: number;
}>;

/** Thrown for a bad flag or value; main prints its message on one line and exits with 2. */
export class ConfigError extends Error {}

/** A whole number written in decimal digits (z.coerce alone would read "" as 0). */
const count = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().min(min).max(max));

/** One row per option: its flag (`--max-message-bytes`), variable (`SUPPORT_MAX_MESSAGE_BYTES`) and rule. */
const options = {
  host: { schema: z.string().trim().min(1), default: '127.0.0.1', help: 'address to listen on' },
  port: { schema: count(0, 65535), default: '12345', help: 'TCP port, 0 picks a free one' },
  db: { schema: z.string().trim().min(1), default: './data/support.db', help: 'SQLite database file' },
  maxMessageBytes: { schema: count(1), default: '8192', help: 'largest message text, in UTF-8 bytes' },
  maxHistoryBytes: { schema: count(1), default: '2097152', help: "largest encoded history of a session" },
  maxOpenSessions: { schema: count(1), default: '10', help: 'open sessions per customer' },
  streamQueue: { schema: count(1), default: '1024', help: 'responses queued per stream for a slow client' },
  maxStreamsPerConnection: { schema: count(1), default: '100', help: 'concurrent streams per HTTP/2 connection' },
  idleTimeoutSeconds: { schema: count(1), default: '86400', help: 'end open sessions idle this long' },
  sqliteSync: { schema: z.enum(['normal', 'full']), default: 'normal', help: "SQLite 'synchronous' setting" },
  keepaliveSeconds: { schema: count(1), default: '30', help: 'ping each connection this often' },
  keepaliveTimeoutSeconds: { schema: count(1), default: '10', help: 'drop a connection whose ping is unanswered this long' },
} satisfies Record<keyof Config, { schema: z.ZodType; default: string; help: string }>;

type OptionName = keyof typeof options;

/**
 * Parses `--name value` / `--name=value` flags over `SUPPORT_NAME` environment variables over defaults.
 * Throws ConfigError naming the first bad flag or value.
 */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  const flags = parseFlags(argv);
  const raw: Record<string, unknown> = {};
  for (const name of Object.keys(options) as OptionName[]) {
    const fromFlag = flags.get(name);
    const fromEnv = env[envName(name)];
    const source = fromFlag !== undefined ? `--${flagName(name)}` : fromEnv !== undefined ? envName(name) : undefined;
    const value = fromFlag ?? fromEnv ?? options[name].default;
    const parsed = options[name].schema.safeParse(value);
    if (!parsed.success) {
      const what = source ?? `default of --${flagName(name)}`;
      throw new ConfigError(`invalid value ${JSON.stringify(value)} for ${what}: ${parsed.error.issues[0]?.message}`);
    }
    raw[name] = parsed.data;
  }
  return Object.freeze(raw as Config);
}

/** Usage text for `--help`. */
export function usage(): string {
  const lines = (Object.keys(options) as OptionName[]).map(
    (name) => `  --${flagName(name).padEnd(28)} ${options[name].help} (default ${options[name].default}; env ${envName(name)})`,
  );
  return ['usage: node dist/src/main.js [flags]', ...lines].join('\n');
}

function parseFlags(argv: readonly string[]): Map<OptionName, string> {
  const byFlag = new Map((Object.keys(options) as OptionName[]).map((name) => [flagName(name), name]));
  const flags = new Map<OptionName, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/s.exec(arg);
    const name = match ? byFlag.get(match[1]!) : undefined;
    if (!match || !name) throw new ConfigError(`unknown flag ${JSON.stringify(arg)} (see --help)`);
    if (flags.has(name)) throw new ConfigError(`flag --${match[1]} given more than once`);
    const value = match[2] ?? argv[++i];
    if (value === undefined || (match[2] === undefined && value.startsWith('--'))) {
      throw new ConfigError(`flag --${match[1]} needs a value`);
    }
    flags.set(name, value);
  }
  return flags;
}

function flagName(name: OptionName): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function envName(name: OptionName): string {
  return `SUPPORT_${flagName(name).replace(/-/g, '_').toUpperCase()}`;
}
