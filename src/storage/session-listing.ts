import type { ListPosition, SessionFilter, SessionState, SessionSummary } from '../domain/session-administration';

/**
 * The admin service's reads of the sessions table, as SQL that SQLite and PostgreSQL both run
 * (only their placeholders differ): one place for what a filter means and for the listing order.
 */

/** A session row as the listing reads it; PostgreSQL returns its bigints as strings. */
export type SummaryRow = {
  pk: number | string;
  id: string;
  customer: string;
  state: 'open' | 'ended';
  created_at: number | string;
  ended_at: number | string | null;
  awaiting_since: number | string | null;
  last_seq: number | string;
  last_entry_at: number | string | null;
};

export const SUMMARY_COLUMNS = 'pk, id, customer, state, created_at, ended_at, awaiting_since, last_seq, last_entry_at';

/** `?` for SQLite, `$n` for PostgreSQL (n from 1). */
export type Placeholder = (index: number) => string;

/** Where a state is, in terms of the columns (an open session awaits while awaiting_since is set). */
const STATE_CONDITIONS: Record<SessionState, string> = {
  awaiting: "state = 'open' AND awaiting_since IS NOT NULL",
  attended: "state = 'open' AND awaiting_since IS NULL",
  ended: "state = 'ended'",
};

/**
 * The listing query: sessions that pass `filter`, newest first (creation time, then creation
 * order), after `after`, at most `limit` rows. Also returns which shape it has, for a cache of
 * prepared statements.
 */
export function listingQuery(filter: SessionFilter, after: ListPosition | undefined, limit: number, placeholder: Placeholder) {
  const conditions: string[] = [];
  const parameters: unknown[] = [];
  const bind = (value: unknown) => placeholder(parameters.push(value));
  if (filter.state) conditions.push(STATE_CONDITIONS[filter.state]);
  if (filter.customerId !== undefined) conditions.push(`customer = ${bind(filter.customerId)}`);
  if (filter.agentId !== undefined) {
    conditions.push(`EXISTS (SELECT 1 FROM participants p WHERE p.session_pk = sessions.pk AND p.agent = ${bind(filter.agentId)})`);
  }
  if (filter.createdAfter) conditions.push(`created_at >= ${bind(filter.createdAfter.getTime())}`);
  if (filter.createdBefore) conditions.push(`created_at < ${bind(filter.createdBefore.getTime())}`);
  if (after) conditions.push(`(created_at, pk) < (${bind(after.createdAt)}, ${bind(after.key)})`);
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const sql = `SELECT ${SUMMARY_COLUMNS} FROM sessions ${where} ORDER BY created_at DESC, pk DESC LIMIT ${bind(limit)}`;
  return { sql, parameters };
}

/** The page of `rows`, read with a limit one above `limit`: the extra row only says that there is more. */
export function toPage(rows: readonly SummaryRow[], limit: number): { sessions: SessionSummary[]; next: ListPosition | undefined } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const next = rows.length > limit && last ? { createdAt: Number(last.created_at), key: Number(last.pk) } : undefined;
  return { sessions: page.map(toSummary), next };
}

export function toSummary(row: SummaryRow): SessionSummary {
  const state: SessionState = row.state === 'ended' ? 'ended' : row.awaiting_since === null ? 'attended' : 'awaiting';
  return {
    id: row.id,
    customerId: row.customer,
    state,
    createdAt: new Date(Number(row.created_at)),
    endedAt: dateOrUndefined(row.ended_at),
    awaitingSince: state === 'awaiting' ? dateOrUndefined(row.awaiting_since) : undefined,
    entryCount: Number(row.last_seq),
    lastEntryAt: dateOrUndefined(row.last_entry_at),
  };
}

function dateOrUndefined(ms: number | string | null): Date | undefined {
  return ms === null ? undefined : new Date(Number(ms));
}
