import { z } from 'zod';
import { flagName, helpLines, parseFlags, type FlagOption, type FlagTable } from '../config/flag-table';
import { CONNECTION_FLAGS, UsageError, type ConnectionOptions } from './cli-options';

const positiveWhole = z.string().regex(/^\d+$/, 'expected a whole number').transform(Number).pipe(z.number().min(1));
const userId = z.string().regex(/^\S{1,128}$/, 'expected 1 to 128 characters without white space');
/** A time as RFC 3339 writes it (a date alone is midnight UTC). */
const time = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/, 'expected a time such as 2026-01-31T09:00:00Z')
  .transform((text) => new Date(text))
  .refine((date) => !Number.isNaN(date.getTime()), 'not a valid time')
  .optional();

const SESSIONS_FLAGS = {
  state: { schema: z.enum(['awaiting', 'attended', 'ended']).optional(), help: 'awaiting, attended or ended: only sessions in that state' },
  customer: { schema: userId.optional(), help: "ID: only this customer's sessions" },
  agent: { schema: userId.optional(), help: 'ID: only sessions this agent took part in' },
  createdAfter: { schema: time, help: 'TIME: only sessions created at or after it (RFC 3339: 2026-01-31T09:00:00Z)' },
  createdBefore: { schema: time, help: 'TIME: only sessions created before it' },
  limit: { schema: positiveWhole, default: '50', help: 'N: list at most N sessions' },
} satisfies Record<string, FlagOption>;

const EXPORT_FLAGS = {
  format: { schema: z.enum(['jsonl', 'text']), default: 'jsonl', help: 'jsonl (JSON Lines, one entry per line) or text (a transcript to read)' },
  out: { schema: z.string().trim().min(1).optional(), help: 'FILE: write the export to FILE (default: standard output)' },
  createdFrom: { schema: time, help: 'TIME: instead of an id, the sessions created at or after it' },
  createdTo: { schema: time, help: 'TIME: ... and before it' },
  endedFrom: { schema: time, help: 'TIME: instead of an id, the sessions that ended at or after it' },
  endedTo: { schema: time, help: 'TIME: ... and before it' },
} satisfies Record<string, FlagOption>;

type CommandSpec = Readonly<{ usage: string; summary: string; args: number; flags: FlagTable }>;

/** The commands, their arguments (ids) and their own flags. */
export const COMMANDS = {
  sessions: { usage: 'sessions [--state S] [--customer ID] [--agent ID] [--created-after T] [--created-before T] [--limit N]', summary: 'list sessions, newest first', args: 0, flags: SESSIONS_FLAGS },
  session: { usage: 'session ID', summary: 'one session: what it is, the agents who took part, its history', args: 1, flags: {} },
  queue: { usage: 'queue', summary: "the queue's statistics", args: 0, flags: {} },
  watch: { usage: 'watch', summary: 'print the changes of the queue as they happen, until Ctrl-C', args: 0, flags: {} },
  end: { usage: 'end ID', summary: 'end a session (its agents get session_ended)', args: 1, flags: {} },
  'erase-customer': { usage: 'erase-customer ID', summary: "erase every session and entry of a customer", args: 1, flags: {} },
  export: { usage: 'export ID | export --created-from T [--created-to T] | export --ended-from T [--ended-to T]  [--format jsonl|text] [--out FILE]', summary: 'transcripts of one session or of a time range, as JSON Lines or text', args: -1, flags: EXPORT_FLAGS },
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;
type FlagsOf<C extends CommandName> = { [K in keyof (typeof COMMANDS)[C]['flags']]: z.output<(typeof COMMANDS)[C]['flags'][K] extends FlagOption ? (typeof COMMANDS)[C]['flags'][K]['schema'] : never> };

/** A command line, parsed: the connection, the command, its ids and its flags. */
export type AdminCommandLine = { [C in CommandName]: Readonly<{ connection: ConnectionOptions; command: C; args: string[]; flags: FlagsOf<C> }> }[CommandName];

/**
 * `[connection flags] COMMAND [ID] [command flags]`: flags may come anywhere; the first argument
 * that is neither a flag nor a flag's value is the command. The flags are read by the one flag
 * parser (flag-table.ts), with the connection's flags and the command's own.
 */
export function parseAdminCommandLine(argv: readonly string[]): AdminCommandLine {
  const switches = new Set(Object.entries(CONNECTION_FLAGS).flatMap(([name, option]) => ('switch' in option && option.switch ? [`--${flagName(name)}`] : [])));
  const { flags, positionals } = splitArguments(argv, switches);
  const [command, ...args] = positionals;
  if (command === undefined) throw new UsageError('missing command (see --help)');
  if (!(command in COMMANDS)) throw new UsageError(`unknown command ${JSON.stringify(command)} (see --help)`);
  const spec: CommandSpec = COMMANDS[command as CommandName];
  if (spec.args >= 0 && args.length !== spec.args) throw new UsageError(`usage: ${spec.usage}`);
  const parsed = parseFlags({ ...CONNECTION_FLAGS, ...spec.flags }, flags, { fail: (message) => new UsageError(message) }).values as Record<string, unknown>;
  const connection = Object.fromEntries(Object.keys(CONNECTION_FLAGS).map((name) => [name, parsed[name]])) as ConnectionOptions;
  const own = Object.fromEntries(Object.keys(spec.flags).map((name) => [name, parsed[name]]));
  return { connection, command, args, flags: own } as AdminCommandLine;
}

/** The --help text. */
export function adminUsage(): string {
  const width = 16;
  return [
    'usage: npm run admin -- [flags] COMMAND [ID] [command flags]   (as an admin: --user admin-..., or --jwt-file with the admin role)',
    ...helpLines(CONNECTION_FLAGS, width),
    'Commands:',
    ...Object.values(COMMANDS).map((spec) => `  ${spec.usage}\n      ${spec.summary}`),
    'Flags of sessions:',
    ...helpLines(SESSIONS_FLAGS, width),
    'Flags of export:',
    ...helpLines(EXPORT_FLAGS, width),
  ].join('\n');
}

/** Flags (with their values) apart from the other arguments; `--` ends the flags. */
function splitArguments(argv: readonly string[], switches: ReadonlySet<string>): { flags: string[]; positionals: string[] } {
  const flags: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    flags.push(arg);
    const takesValue = !arg.includes('=') && !switches.has(arg);
    if (takesValue && i + 1 < argv.length) flags.push(argv[++i]!);
  }
  return { flags, positionals };
}

