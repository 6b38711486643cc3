import { z } from 'zod';
import { flagName, helpLines, parseFlags, switchValue, type FlagOption } from './flag-table';
import { isLoopbackHost } from './loopback';

/** The server's configuration: every option of SPEC §6-7 and of production mode, parsed once, validated, frozen. */
export type Config = Readonly<{
  host: string;
  port: number;
  /** The SQLite database file (when the store is SQLite). */
  db: string;
  /** Where sessions are stored: `sqlite:PATH` or a `postgres://` / `postgresql://` URL (SPEC §8). */
  store: string;
  /** How instances tell each other of new entries: `local` (one process) or `postgres` (LISTEN/NOTIFY). */
  bus: 'local' | 'postgres';
  /** The PostgreSQL schema of the tables. */
  pgSchema: string;
  /** How long an instance that stops renewing its lease is still taken for alive. */
  instanceLeaseSeconds: number;
  maxMessageBytes: number;
  maxHistoryBytes: number;
  maxHistoryEntries: number;
  maxOpenSessions: number;
  /** `init` and `accept` requests per user id per minute, over all its streams; 0 = off. */
  maxJoinsPerMinute: number;
  /** Concurrent streams of one user id; 0 = no limit. */
  maxStreamsPerUser: number;
  maxConnections: number;
  /** Bytes of responses waiting for clients, over every stream. */
  maxBufferedBytes: number;
  streamQueue: number;
  maxStreamsPerConnection: number;
  idleTimeoutSeconds: number;
  sqliteSync: 'normal' | 'full';
  keepaliveSeconds: number;
  keepaliveTimeoutSeconds: number;
  /** Requests per second one stream may send before the server stops reading it; 0 = unlimited. */
  maxMessagesPerSecond: number;
  /** How many requests a stream may send at once above that rate. */
  messageBurst: number;
  auth: 'demo' | 'jwt';
  /** Demo auth on a non-loopback address: anyone who can reach the port can claim any id. */
  insecureDemoAuth: boolean;
  jwtSecretFile: string | undefined;
  jwtPublicKeyFile: string | undefined;
  jwtJwksFile: string | undefined;
  jwtIssuer: string | undefined;
  jwtAudience: string | undefined;
  /** Accept tokens whatever their `aud`: only for an identity provider that serves this service alone. */
  jwtAllowAnyAudience: boolean;
  jwtRoleClaim: string;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  tlsClientCa: string | undefined;
  /** Serve Prometheus metrics (`GET /metrics`) on this port; undefined = off. */
  metricsPort: number | undefined;
  metricsHost: string;
  /** Delete ended sessions this many days after their end; undefined = keep them forever. */
  retentionDays: number | undefined;
}>;

/** Thrown for a bad flag, value or file; main prints its message on one line and exits with 2. */
export class ConfigError extends Error {}

/** A whole number written in decimal digits (z.coerce alone would read "" as 0). */
const count = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().min(min).max(max));

const text = z.string().trim().min(1);
// An IPv6 address may be written in brackets, as in a URL; the brackets are added back where needed.
const host = text.transform((value) => value.replace(/^\[(.*)\]$/, '$1')).pipe(text);
const optionalText = text.optional();
const yesNo = switchValue;

type Option = FlagOption;

/**
 * One row per option: its flag (`--max-message-bytes`), variable (`SUPPORT_MAX_MESSAGE_BYTES`),
 * rule, default and help line (flag-table.ts reads them all, for parsing and for --help).
 */
const options = {
  host: { schema: host, default: '127.0.0.1', help: 'address to listen on' },
  port: { schema: count(0, 65535), default: '12345', help: 'TCP port, 0 picks a free one' },
  db: { schema: text, default: './data/support.db', help: 'SQLite database file (short for --store sqlite:PATH)' },
  store: { schema: text.refine(isStoreUrl, 'expected sqlite:PATH or a postgres:// URL').optional(), help: 'sqlite:PATH (the default, from --db) or postgres://... (several instances)' },
  bus: { schema: z.enum(['local', 'postgres']).optional(), help: "'local' (the default with SQLite) or 'postgres' (the default with PostgreSQL)" },
  pgSchema: { schema: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,54}$/, 'expected a schema name (letters, digits, _)'), default: 'public', help: 'PostgreSQL schema of the tables' },
  instanceLeaseSeconds: { schema: count(2, 3600), default: '10', help: 'an instance silent this long is taken for dead (PostgreSQL)' },
  maxMessageBytes: { schema: count(1), default: '8192', help: 'largest message text, in UTF-8 bytes' },
  maxHistoryBytes: { schema: count(1), default: '2097152', help: "largest encoded history of a session" },
  maxHistoryEntries: { schema: count(1), default: '10000', help: 'most entries in the history of a session' },
  maxOpenSessions: { schema: count(1), default: '10', help: 'open sessions per customer' },
  maxJoinsPerMinute: { schema: count(0), default: '120', help: 'init and accept requests per user per minute; 0 = off' },
  maxStreamsPerUser: { schema: count(0), default: '20', help: 'concurrent streams per user id; 0 = no limit' },
  maxConnections: { schema: count(1), default: '10000', help: 'concurrent HTTP/2 connections' },
  maxBufferedBytes: { schema: count(1), default: '268435456', help: 'bytes of responses waiting for clients, over all streams' },
  streamQueue: { schema: count(1), default: '1024', help: 'responses queued per stream for a slow client' },
  maxStreamsPerConnection: { schema: count(1), default: '100', help: 'concurrent streams per HTTP/2 connection' },
  idleTimeoutSeconds: { schema: count(1), default: '86400', help: 'end open sessions idle this long' },
  sqliteSync: { schema: z.enum(['normal', 'full']), default: 'normal', help: "SQLite 'synchronous' setting" },
  keepaliveSeconds: { schema: count(1), default: '30', help: 'ping each connection this often' },
  keepaliveTimeoutSeconds: { schema: count(1), default: '10', help: 'drop a connection whose ping is unanswered this long' },
  maxMessagesPerSecond: { schema: count(0), default: '50', help: 'requests per second per stream before reading slows; 0 = off' },
  messageBurst: { schema: count(1), default: '100', help: 'requests a stream may send at once above that rate' },
  auth: { schema: z.enum(['demo', 'jwt']), default: 'demo', help: "'demo' (authorization: token <id>) or 'jwt' (Bearer tokens)" },
  insecureDemoAuth: { schema: yesNo, default: 'false', switch: true, help: 'allow demo auth on a non-loopback address' },
  jwtSecretFile: { schema: optionalText, help: 'HS256 secret (at least 32 bytes) for --auth jwt' },
  jwtPublicKeyFile: { schema: optionalText, help: 'PEM public key or certificate (RS256, ES256, EdDSA) for --auth jwt' },
  jwtJwksFile: { schema: optionalText, help: 'JWKS file of public keys for --auth jwt' },
  jwtIssuer: { schema: optionalText, help: "required 'iss' of tokens" },
  jwtAudience: { schema: optionalText, help: "required 'aud' of tokens (needed with --auth jwt)" },
  jwtAllowAnyAudience: { schema: yesNo, default: 'false', switch: true, help: "accept tokens whatever their 'aud' (instead of --jwt-audience)" },
  jwtRoleClaim: { schema: text, default: 'role', help: "claim holding 'customer', 'agent' or 'admin'" },
  tlsCert: { schema: optionalText, help: 'PEM certificate chain: serve over TLS' },
  tlsKey: { schema: optionalText, help: 'PEM private key of --tls-cert' },
  tlsClientCa: { schema: optionalText, help: 'PEM CA: require client certificates it signed (mTLS)' },
  metricsPort: { schema: count(0, 65535).optional(), help: 'serve Prometheus metrics (GET /metrics) on this port, 0 picks a free one; off if not given' },
  metricsHost: { schema: host, default: '127.0.0.1', help: 'address of the metrics port' },
  retentionDays: { schema: count(1, 36500).optional(), help: 'delete ended sessions and their entries this many days after their end; off if not given' },
} satisfies Record<keyof Config, Option>;


/** The prefix of the options' environment variables. */
const ENV_PREFIX = 'SUPPORT_';

/**
 * Parses `--name value` / `--name=value` flags over `SUPPORT_NAME` environment variables over defaults,
 * then checks the options that only make sense together. Throws ConfigError naming the first bad
 * flag or value. Reads no files: the key and certificate files are read when the server starts
 * (createAuthenticator, loadServerTransport), before it touches the database.
 */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  const { values, given } = parseFlags(options, argv, { env: { vars: env, prefix: ENV_PREFIX }, fail: (message) => new ConfigError(message) });
  const config = resolveStore(values as Config, given);
  checkCombinations(config);
  return Object.freeze(config);
}

/**
 * SPEC §8: `--store` names the store (`--db PATH` is short for `--store sqlite:PATH`), and the bus
 * follows it unless given. The options that only mean something together are checked here.
 */
function resolveStore(config: Config, given: ReadonlySet<string>): Config {
  const store = config.store ?? `sqlite:${config.db}`;
  const sqlitePath = store.startsWith('sqlite:') ? store.slice('sqlite:'.length) : undefined;
  if (given.has('db') && given.has('store') && sqlitePath !== config.db) {
    throw new ConfigError(`--db ${config.db} and --store ${sqlitePath === undefined ? 'postgres://…' : store} name different stores; give one of them`);
  }
  if (sqlitePath !== undefined) {
    if (config.bus === 'postgres') throw new ConfigError('--bus postgres needs a PostgreSQL --store (SQLite serves one process: its bus is local)');
    const postgresOnly = (['pgSchema', 'instanceLeaseSeconds'] as const).find((name) => given.has(name));
    if (postgresOnly) throw new ConfigError(`--${flagName(postgresOnly)} needs a PostgreSQL --store`);
    return { ...config, store, db: sqlitePath, bus: 'local' };
  }
  return { ...config, store, bus: config.bus ?? 'postgres' };
}

function isStoreUrl(value: string): boolean {
  if (value.startsWith('sqlite:')) return value.length > 'sqlite:'.length;
  if (!/^postgres(ql)?:\/\//.test(value)) return false;
  try {
    return new URL(value).hostname !== '' || new URL(value).searchParams.has('host');
  } catch {
    return false;
  }
}

/** Rules across options; each message names the flags involved. */
function checkCombinations(config: Config): void {
  const keySources = [config.jwtSecretFile, config.jwtPublicKeyFile, config.jwtJwksFile].filter((file) => file !== undefined);
  if (config.auth === 'jwt' && keySources.length !== 1) {
    throw new ConfigError('--auth jwt needs exactly one of --jwt-secret-file, --jwt-public-key-file, --jwt-jwks-file');
  }
  const jwtOnly = (['jwtSecretFile', 'jwtPublicKeyFile', 'jwtJwksFile', 'jwtIssuer', 'jwtAudience'] as const).find((name) => config[name] !== undefined);
  if (config.auth === 'demo' && jwtOnly !== undefined) throw new ConfigError(`--${flagName(jwtOnly)} needs --auth jwt`);
  if (config.auth === 'demo' && config.jwtAllowAnyAudience) throw new ConfigError('--jwt-allow-any-audience needs --auth jwt');
  // An identity provider usually serves several services: without an audience, a token minted for
  // another one (with role: agent) would be taken here.
  if (config.auth === 'jwt' && config.jwtAudience === undefined && !config.jwtAllowAnyAudience) {
    throw new ConfigError('--auth jwt needs --jwt-audience (the aud your identity provider gives this service), or --jwt-allow-any-audience');
  }
  if (config.jwtAudience !== undefined && config.jwtAllowAnyAudience) {
    throw new ConfigError('--jwt-audience and --jwt-allow-any-audience contradict each other');
  }
  if (config.auth === 'demo' && !config.insecureDemoAuth && !isLoopbackHost(config.host)) {
    throw new ConfigError(
      `refusing demo auth on --host ${config.host}: anyone who reaches it can claim any id; use --auth jwt, a loopback --host, or --insecure-demo-auth`,
    );
  }
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new ConfigError('--tls-cert and --tls-key go together');
  }
  if (config.tlsClientCa !== undefined && config.tlsCert === undefined) {
    throw new ConfigError('--tls-client-ca needs --tls-cert and --tls-key');
  }
}

/** Usage text for `--help`. */
export function usage(): string {
  return ['usage: node dist/src/main.js [flags]', ...helpLines(options, 28, ENV_PREFIX)].join('\n');
}
