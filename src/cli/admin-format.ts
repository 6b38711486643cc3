import {
  AuthorRole,
  QueueEventKind,
  SessionState,
  type Entry,
  type GetQueueStatisticsResponse,
  type GetSessionResponse,
  type SessionSummary,
  type WatchQueueResponse,
} from '../../gen/support/admin/v1/admin';
import { oneLine, safeLines, shownName } from '../text/untrusted-text';

/**
 * What the admin command line prints. Ids and messages come from users: shown as the terminal apps
 * show them (untrusted-text.ts), so they can neither drive the terminal nor pass for the tool's lines.
 */

const STATES: Record<number, string> = {
  [SessionState.SESSION_STATE_AWAITING]: 'awaiting',
  [SessionState.SESSION_STATE_ATTENDED]: 'attended',
  [SessionState.SESSION_STATE_ENDED]: 'ended',
};
const EVENTS: Record<number, string> = {
  [QueueEventKind.QUEUE_EVENT_KIND_WAITING]: 'waiting',
  [QueueEventKind.QUEUE_EVENT_KIND_TAKEN]: 'taken',
  [QueueEventKind.QUEUE_EVENT_KIND_ENDED]: 'ended',
};

const iso = (date: Date | undefined) => date?.toISOString() ?? '-';

/** A table of sessions, one per line under a heading, columns aligned. */
export function sessionTable(sessions: readonly SessionSummary[]): string[] {
  const rows = [
    ['SESSION', 'STATE', 'CUSTOMER', 'CREATED', 'ENDED', 'ENTRIES'],
    ...sessions.map((s) => [oneLine(s.sessionId), STATES[s.state] ?? 'unknown', shownName(s.customerId), iso(s.createTime), iso(s.endTime), String(s.entryCount)]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '));
}

/** One session: what it is, who took part, then its history. */
export function sessionDetail({ session, agentIds, history }: GetSessionResponse): string[] {
  const s = session!;
  return [
    `session   ${oneLine(s.sessionId)}`,
    `customer  ${shownName(s.customerId)}`,
    `state     ${STATES[s.state] ?? 'unknown'}${s.awaitingSince ? ` since ${iso(s.awaitingSince)}` : ''}`,
    `created   ${iso(s.createTime)}`,
    `ended     ${iso(s.endTime)}`,
    `agents    ${agentIds.length === 0 ? '-' : agentIds.map(shownName).join(', ')}`,
    `entries   ${s.entryCount}`,
    '',
    ...history.flatMap(entryLines),
  ];
}

/** `date  role id: text`, further lines of the text indented under it. */
export function entryLines(entry: Entry): string[] {
  const role = entry.authorRole === AuthorRole.AUTHOR_ROLE_AGENT ? 'agent' : 'customer';
  const [first, ...more] = safeLines(entry.text);
  return [`${iso(entry.date)}  ${role} ${shownName(entry.authorId)}: ${first}`, ...more.map((line) => `    ${line}`)];
}

export function queueReport(report: GetQueueStatisticsResponse, now: Date): string[] {
  const oldest = report.oldestAwaitingSince;
  const waited = oldest ? `, the oldest since ${iso(oldest)} (${duration(now.getTime() - oldest.getTime())})` : '';
  return [`awaiting         ${report.awaitingCount}${waited}`, `attended         ${report.attendedCount}`, `agents attached  ${report.agentsAttached}`];
}

/** `date  kind  session  customer ID`. */
export function queueEventLine(event: WatchQueueResponse): string {
  return `${iso(event.time)}  ${(EVENTS[event.kind] ?? 'unknown').padEnd(7)}  ${oneLine(event.sessionId)}  customer ${shownName(event.customerId)}`;
}

/** A wait as people say it: 45s, 3m 05s, 2h 10m. */
function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
