import fs from 'node:fs';
import { once } from 'node:events';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { status as Status, type ServiceError } from '@grpc/grpc-js';
import { ExportFormat, SessionState, type ExportSessionsRequest, type ExportSessionsResponse, type SessionSummary, type WatchQueueResponse } from '../../gen/support/admin/v1/admin';
import { callUnary, type AdminConnection } from './admin-connection';
import { queueEventLine, queueReport, sessionDetail, sessionTable } from './admin-format';
import type { AdminCommandLine } from './admin-options';
import { UsageError } from './cli-options';
import { oneLine, shownName } from '../text/untrusted-text';

/** Where a command prints: lines for people on `out`, notes on `note` (standard error). */
export type CommandOutput = Readonly<{ out: NodeJS.WritableStream; note: (line: string) => void }>;

type Command<C extends AdminCommandLine['command']> = (connection: AdminConnection, line: Extract<AdminCommandLine, { command: C }>, output: CommandOutput) => Promise<void>;

/** Most sessions one ListSessions page holds (the server's largest). */
const MAX_PAGE = 1000;

const STATE_FILTERS = { awaiting: SessionState.SESSION_STATE_AWAITING, attended: SessionState.SESSION_STATE_ATTENDED, ended: SessionState.SESSION_STATE_ENDED };

const print = (output: CommandOutput, lines: readonly string[]) => output.out.write(lines.map((line) => `${line}\n`).join(''));

const sessions: Command<'sessions'> = async (connection, { flags }, output) => {
  const listed: SessionSummary[] = [];
  let pageToken = '';
  do {
    const page = await callUnary(connection, 'listSessions', {
      state: flags.state ? STATE_FILTERS[flags.state] : SessionState.SESSION_STATE_UNSPECIFIED,
      customerId: flags.customer ?? '',
      agentId: flags.agent ?? '',
      createdAfter: flags.createdAfter,
      createdBefore: flags.createdBefore,
      pageSize: Math.min(MAX_PAGE, flags.limit - listed.length),
      pageToken,
    });
    listed.push(...page.sessions);
    pageToken = page.nextPageToken;
  } while (pageToken !== '' && listed.length < flags.limit);
  print(output, sessionTable(listed));
  if (listed.length === 0) output.note('* no sessions');
  if (pageToken !== '') output.note(`* more sessions than --limit ${flags.limit}: raise it, or narrow the filters`);
};

const session: Command<'session'> = async (connection, { args }, output) => {
  print(output, sessionDetail(await callUnary(connection, 'getSession', { sessionId: args[0]! })));
};

const queue: Command<'queue'> = async (connection, _line, output) => {
  print(output, queueReport(await callUnary(connection, 'getQueueStatistics', {}), new Date()));
};

const end: Command<'end'> = async (connection, { args }, output) => {
  await callUnary(connection, 'endSession', { sessionId: args[0]! });
  print(output, [`session ${oneLine(args[0]!)} ended`]);
};

const eraseCustomer: Command<'erase-customer'> = async (connection, { args }, output) => {
  const erased = await callUnary(connection, 'eraseCustomer', { customerId: args[0]! });
  print(output, [`customer ${shownName(args[0]!)} erased: ${erased.sessionsErased} session(s), ${erased.entriesErased} entr${erased.entriesErased === 1 ? 'y' : 'ies'}`]);
};

/** Until Ctrl-C (SIGINT) or SIGTERM, which end the watch and the command without an error. */
const watch: Command<'watch'> = async (connection, _line, output) => {
  const call = connection.client.watchQueue({}, await connection.metadata());
  call.on('metadata', () => output.note(`* watching the queue on ${connection.address}; Ctrl-C to stop`));
  call.on('data', (event: WatchQueueResponse) => print(output, [queueEventLine(event)]));
  const stop = () => call.cancel();
  process.once('SIGINT', stop).once('SIGTERM', stop);
  try {
    const [error] = (await once(call, 'error').catch((e: unknown) => [e])) as [ServiceError];
    if (error.code !== Status.CANCELLED) throw error;
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
  }
};

/**
 * The chunks as they come, each written once the output has taken the one before (pipeline's
 * back-pressure pauses the call): a large export is never held whole. A failed export to a file
 * removes the file, so that part of an export is never taken for all of it.
 */
const exportCommand: Command<'export'> = async (connection, { args, flags }, output) => {
  const request: ExportSessionsRequest = {
    selection: exportSelection(args, flags),
    format: flags.format === 'text' ? ExportFormat.EXPORT_FORMAT_PLAIN_TEXT : ExportFormat.EXPORT_FORMAT_JSON_LINES,
  };
  const call = connection.client.exportSessions(request, await connection.metadata());
  let bytes = 0;
  const chunks = new Transform({
    writableObjectMode: true,
    transform(response: ExportSessionsResponse, _encoding, done) {
      bytes += response.chunk.length;
      done(null, response.chunk);
    },
  });
  if (flags.out === undefined) return pipeline(call, chunks, output.out, { end: false });
  try {
    await pipeline(call, chunks, fs.createWriteStream(flags.out));
  } catch (error) {
    fs.rmSync(flags.out, { force: true });
    throw error;
  }
  output.note(`* exported ${bytes} bytes to ${flags.out}`);
};

function exportSelection(args: readonly string[], flags: Extract<AdminCommandLine, { command: 'export' }>['flags']): ExportSessionsRequest['selection'] {
  const created = flags.createdFrom !== undefined || flags.createdTo !== undefined;
  const ended = flags.endedFrom !== undefined || flags.endedTo !== undefined;
  const ways = [args.length > 0, created, ended].filter(Boolean).length;
  if (ways !== 1 || args.length > 1) throw new UsageError('export takes one session id, or --created-from/--created-to, or --ended-from/--ended-to (see --help)');
  if (args.length === 1) return { $case: 'sessionId', value: args[0]! };
  if (created) return { $case: 'created', value: { start: flags.createdFrom, end: flags.createdTo } };
  return { $case: 'ended', value: { start: flags.endedFrom, end: flags.endedTo } };
}

/** Runs the command of `line`; rejects with the server's ServiceError or a UsageError. */
export function runAdminCommand(connection: AdminConnection, line: AdminCommandLine, output: CommandOutput): Promise<void> {
  switch (line.command) {
    case 'sessions':
      return sessions(connection, line, output);
    case 'session':
      return session(connection, line, output);
    case 'queue':
      return queue(connection, line, output);
    case 'watch':
      return watch(connection, line, output);
    case 'end':
      return end(connection, line, output);
    case 'erase-customer':
      return eraseCustomer(connection, line, output);
    case 'export':
      return exportCommand(connection, line, output);
  }
}
