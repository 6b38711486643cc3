import { z } from 'zod';

/** A bad command line: the app prints the message on one line and exits with 2. */
export class UsageError extends Error {}

const positiveMs = z.string().regex(/^\d+$/, 'expected a whole number').transform(Number).pipe(z.number().min(1));
const path = z.string().trim().min(1);

/** Flags both apps take. Every value arrives as a string; switches as 'true'. */
const common = {
  /** Optional with --jwt-file, whose token names the user (chat-options-from-cli.ts). */
  user: z.string().regex(/^\S{1,128}$/, 'expected 1 to 128 characters without white space').optional(),
  server: z
    .string()
    .regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:/]+):\d{1,5}$/, 'expected HOST:PORT')
    .default('127.0.0.1:12345'),
  jwtFile: path.optional(),
  tls: z.literal('true').optional(),
  tlsCa: path.optional(),
  tlsCert: path.optional(),
  tlsKey: path.optional(),
  retryInitialMs: positiveMs.default(250),
  retryMaxMs: positiveMs.default(5000),
  giveUpAfterS: positiveMs.default(300),
};

const customerSchema = z.strictObject({
  ...common,
  stateFile: path.optional(),
  new: z.literal('true').optional(),
});

const agentSchema = z.strictObject(common);

export type CommonOptions = z.infer<z.ZodObject<typeof common>>;
export type CustomerCliOptions = z.infer<typeof customerSchema>;
export type AgentCliOptions = z.infer<typeof agentSchema>;

/** Flags that take no value. */
const SWITCHES = new Set(['tls', 'new']);

export const COMMON_USAGE = [
  '  --user ID              your id (agents: ids starting with "agent"); with --jwt-file, the token\'s sub (a different --user is refused)',
  '  --server HOST:PORT     the server (default 127.0.0.1:12345)',
  '  --jwt-file PATH        send the JWT in PATH as "authorization: Bearer" instead of the demo token; --user may be left out',
  '  --tls                  connect over TLS (system CAs); --tls-ca PATH, --tls-cert PATH --tls-key PATH for a private CA / mTLS',
  '  --retry-initial-ms N   first reconnect delay (default 250); --retry-max-ms N largest (default 5000)',
  '  --give-up-after-s N    stop reconnecting after N seconds without the server (default 300)',
].join('\n');

export function parseCustomerOptions(argv: readonly string[]): CustomerCliOptions {
  return parseWith(customerSchema, argv);
}

export function parseAgentOptions(argv: readonly string[]): AgentCliOptions {
  return parseWith(agentSchema, argv);
}

function parseWith<T>(schema: z.ZodType<T>, argv: readonly string[]): T {
  const flags = flagsOf(argv);
  const parsed = schema.safeParse(flags);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') throw new UsageError(`unknown flag --${kebab(issue.keys[0]!)} (see --help)`);
  const name = String(issue.path[0] ?? '');
  if (flags[name] === undefined) throw new UsageError(`missing --${kebab(name)} (see --help)`);
  throw new UsageError(`invalid --${kebab(name)}: ${issue.message}`);
}

/** `--name value` and `--name=value` into { name: value }, camel-cased; a switch alone is 'true'. */
function flagsOf(argv: readonly string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/s.exec(argv[i]!);
    if (!match) throw new UsageError(`unexpected argument ${JSON.stringify(argv[i])} (see --help)`);
    const name = camel(match[1]!);
    if (name in flags) throw new UsageError(`flag --${match[1]} given more than once`);
    const value = match[2] ?? (SWITCHES.has(name) ? 'true' : argv[++i]);
    if (value === undefined) throw new UsageError(`flag --${match[1]} needs a value`);
    flags[name] = value;
  }
  return flags;
}

function camel(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
