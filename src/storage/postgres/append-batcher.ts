import type pg from 'pg';
import { ChatError } from '../../domain/chat-error';
import type { Entry } from '../../domain/entry';
import { noMetrics, type Metrics } from '../../domain/metrics';
import type { EntryDraft, HistoryLimits } from '../../domain/session-store';
import { isUnavailable } from './postgres-connection';
import { inTransaction } from './postgres-queries';
import { toStoredText } from './stored-text';

/** One entry to append, and its promise. */
type Append = Readonly<{
  sessionId: string;
  draft: EntryDraft;
  now: Date;
  limits: HistoryLimits;
  resolve: (entry: Entry) => void;
  reject: (error: unknown) => void;
}>;

type Counters = { pk: string; state: 'open' | 'ended'; lastSeq: number; lastEntryAt: number | null; historyBytes: number };
type CountersRow = { pk: string; id: string; state: 'open' | 'ended'; last_seq: string; last_entry_at: string | null; history_bytes: string };

/** Most entries in one transaction. */
const MAX_BATCH = 500;

/**
 * Group commit on PostgreSQL: the entries queued while a transaction is under way go into the
 * next one, so a busy instance pays one transaction for many entries. A transaction locks the
 * rows of its sessions (in key order: no deadlock between instances), numbers each entry from its
 * session's counters, then writes all entries and all counters in one statement; the row locks
 * are what order one session's entries across instances. Promises settle after COMMIT,
 * in queue order. An entry that breaks a rule (session ended, history full) fails alone; an
 * unexpected error fails the batch, whose entries are then retried one transaction each.
 */
export class AppendBatcher {
  private queue: Append[] = [];
  private running = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly metrics: Pick<Metrics, 'batchCommitted'> = noMetrics,
  ) {}

  append(sessionId: string, draft: EntryDraft, now: Date, limits: HistoryLimits): Promise<Entry> {
    return new Promise<Entry>((resolve, reject) => {
      this.queue.push({ sessionId, draft, now, limits, resolve, reject });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      const startedAt = performance.now();
      const outcomes = await this.outcomesOf(batch);
      this.metrics.batchCommitted(batch.length, (performance.now() - startedAt) / 1000);
      batch.forEach((item, i) => {
        const outcome = outcomes[i];
        if (outcome instanceof Error || outcome === undefined) item.reject(outcome);
        else item.resolve(outcome as Entry);
      });
      // A turn of the event loop before the next batch: the streams whose entries just committed
      // take their next request meanwhile (a stream appends one entry at a time), so that the next
      // batch holds them too instead of waiting for the one after.
      await new Promise(setImmediate);
    }
    this.running = false;
  }

  /** Each item's entry, or what it failed with; an unexpected failure of the batch is narrowed down to its item. */
  private async outcomesOf(batch: readonly Append[]): Promise<unknown[]> {
    try {
      return await this.commit(batch);
    } catch (error) {
      if (batch.length === 1 || isUnavailable(error)) return batch.map(() => error);
      const alone: unknown[] = [];
      for (const item of batch) alone.push(await this.commit([item]).then(([outcome]) => outcome, (e: unknown) => e));
      return alone;
    }
  }

  /** One transaction for `batch`: each item's entry, or the ChatError it failed with. */
  private commit(batch: readonly Append[]): Promise<(Entry | ChatError)[]> {
    return inTransaction(this.pool, async (client) => {
      const sessions = await lockSessions(client, [...new Set(batch.map((item) => item.sessionId))]);
      const rows = { pk: [] as string[], seq: [] as number[], date: [] as number[], agent: [] as (string | null)[], text: [] as string[], origin: [] as string[] };
      const outcomes = batch.map((item) => {
        const counters = sessions.get(item.sessionId);
        const outcome = counters ? next(counters, item) : new ChatError('not-found', 'no such session');
        if (outcome instanceof ChatError) return outcome;
        rows.pk.push(counters!.pk);
        rows.seq.push(outcome.seq);
        rows.date.push(outcome.date.getTime());
        rows.agent.push(outcome.author.kind === 'agent' ? outcome.author.agentId : null);
        rows.text.push(toStoredText(outcome.text));
        rows.origin.push(item.draft.origin);
        return outcome;
      });
      if (rows.pk.length > 0) {
        const written = new Set(rows.pk);
        const changed = [...sessions.values()].filter((c) => written.has(c.pk));
        // One statement for the entries and the counters: one round trip less while the rows are locked.
        await client.query(
          `WITH appended AS (
             INSERT INTO entries (session_pk, seq, date_ms, agent, text, origin)
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[])
           )
           UPDATE sessions s SET last_seq = u.seq, last_entry_at = u.at, history_bytes = u.bytes
             FROM unnest($7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[]) AS u(pk, seq, at, bytes)
            WHERE s.pk = u.pk`,
          [rows.pk, rows.seq, rows.date, rows.agent, rows.text, rows.origin, changed.map((c) => c.pk), changed.map((c) => c.lastSeq), changed.map((c) => c.lastEntryAt), changed.map((c) => c.historyBytes)],
        );
      }
      return outcomes;
    });
  }
}

/** Locks the sessions' rows, in key order, and returns their counters by id. */
async function lockSessions(client: pg.PoolClient, ids: string[]): Promise<Map<string, Counters>> {
  const { rows } = await client.query<CountersRow>(
    'SELECT pk, id, state, last_seq, last_entry_at, history_bytes FROM sessions WHERE id = ANY($1) ORDER BY pk FOR UPDATE',
    [ids],
  );
  return new Map(
    rows.map((row) => [
      row.id,
      { pk: row.pk, state: row.state, lastSeq: Number(row.last_seq), lastEntryAt: row.last_entry_at === null ? null : Number(row.last_entry_at), historyBytes: Number(row.history_bytes) },
    ]),
  );
}

/** The session's next entry, advancing its counters, or the rule it would break (SPEC §2, §6). */
function next(counters: Counters, item: Append): Entry | ChatError {
  if (counters.state !== 'open') return new ChatError('failed-precondition', 'the session has ended');
  if (counters.lastSeq >= item.limits.maxEntries) {
    return new ChatError('resource-exhausted', `the session's history holds ${item.limits.maxEntries} entries, the most allowed`);
  }
  // The date never decreases within a session, whichever instance's clock it comes from.
  const date = new Date(Math.max(item.now.getTime(), counters.lastEntryAt ?? 0));
  const historyBytes = counters.historyBytes + item.draft.encodedSize(date);
  if (historyBytes > item.limits.maxBytes) return new ChatError('resource-exhausted', `the session's history would pass ${item.limits.maxBytes} bytes`);
  counters.lastSeq += 1;
  counters.lastEntryAt = date.getTime();
  counters.historyBytes = historyBytes;
  return { seq: counters.lastSeq, date, author: item.draft.author, text: item.draft.text };
}
