import { z } from 'zod';
import { helpLines, parseFlags, switchValue, type FlagOption, type ParsedFlags } from '../config/flag-table';

/** A bad command line: the app prints the message on one line and exits with 2. */
export class UsageError extends Error {}

const positiveWhole = z.string().regex(/^\d+$/, 'expected a whole number').transform(Number).pipe(z.number().min(1));
const path = z.string().trim().min(1);

/**
 * Where the server is and who the user is: the flags of the terminal apps and of the admin command
 * line (flag-table.ts: one row per flag, its rule, default and help line).
 */
export const CONNECTION_FLAGS = {
  /** Optional with --jwt-file, whose token names the user (chat-options-from-cli.ts). */
  user: {
    schema: z.string().regex(/^\S{1,128}$/, 'expected 1 to 128 characters without white space').optional(),
    help: 'ID: your id (agents: ids starting with "agent"); with --jwt-file the token\'s sub (a different --user is refused)',
  },
  server: {
    schema: z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:/]+):\d{1,5}$/, 'expected HOST:PORT'),
    default: '127.0.0.1:12345',
    help: 'HOST:PORT of the server',
  },
  jwtFile: { schema: path.optional(), help: 'PATH: send the JWT in it as "authorization: Bearer" instead of the demo token; --user may be left out' },
  tls: { schema: switchValue, default: 'false', switch: true, help: 'connect over TLS, trusting the system CAs' },
  tlsCa: { schema: path.optional(), help: 'PATH: a PEM CA to trust instead (implies --tls)' },
  tlsCert: { schema: path.optional(), help: 'PATH: a PEM client certificate, for mTLS (with --tls-key)' },
  tlsKey: { schema: path.optional(), help: 'PATH: the PEM key of --tls-cert' },
} satisfies Record<string, FlagOption>;

/** Flags both apps take: the connection's, and how they reconnect. */
const common = {
  ...CONNECTION_FLAGS,
  retryInitialMs: { schema: positiveWhole, default: '250', help: 'first reconnect delay, in ms' },
  retryMaxMs: { schema: positiveWhole, default: '5000', help: 'largest reconnect delay, in ms' },
  giveUpAfterS: { schema: positiveWhole, default: '300', help: 'stop reconnecting after this many seconds without the server' },
} satisfies Record<string, FlagOption>;

const customer = {
  ...common,
  stateFile: { schema: path.optional(), help: 'PATH: where the last session id per user is kept (default $XDG_STATE_HOME/support-chat/sessions.json)' },
  new: { schema: switchValue, default: 'false', switch: true, help: 'start a new session even if the last one is still open' },
} satisfies Record<string, FlagOption>;

export type ConnectionOptions = ParsedFlags<typeof CONNECTION_FLAGS>['values'];
export type CommonOptions = ParsedFlags<typeof common>['values'];
export type CustomerCliOptions = ParsedFlags<typeof customer>['values'];
export type AgentCliOptions = CommonOptions;

/** Width of the flag column in --help. */
const FLAG_WIDTH = 18;

export const CUSTOMER_FLAGS_HELP = helpLines(customer, FLAG_WIDTH).join('\n');
export const AGENT_FLAGS_HELP = helpLines(common, FLAG_WIDTH).join('\n');

export function parseCustomerOptions(argv: readonly string[]): CustomerCliOptions {
  return parseFlags(customer, argv, { fail: (message) => new UsageError(message) }).values;
}

export function parseAgentOptions(argv: readonly string[]): AgentCliOptions {
  return parseFlags(common, argv, { fail: (message) => new UsageError(message) }).values;
}
