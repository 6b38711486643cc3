import { Counter, Gauge, type Registry } from 'prom-client';
import type { Metrics, Side, StreamCut } from '../domain/metrics';
import { LeanHistogram } from './lean-histogram';

/** Seconds, from a millisecond to ten seconds: delivery and commits on a healthy server sit at the low end. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Writes per commit: one on a quiet server, hundreds under load. */
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

/**
 * The Metrics port as Prometheus counters and gauges in `registry`, and histograms of its own
 * (`histogramsText`). What is reported once per message or per commit (entries committed,
 * deliveries, commits) costs an increment or a bucket search and allocates nothing; what is
 * reported once per stream goes to prom-client's labelled metrics. Label values come from fixed
 * sets only.
 */
export class EventMetrics implements Metrics {
  private readonly liveStreams;
  private readonly callsEnded;
  private readonly authFailures;
  private readonly throttled;
  private readonly cuts;
  /** Incremented on the hot path as plain numbers; the counter reads them at scrape time. */
  private readonly committed = { customer: 0, agent: 0 };
  private readonly deliveryLatency;
  private readonly batchSize;
  private readonly commitDuration;
  private readonly idleEnded;
  private readonly retainedSessions;
  private readonly retainedEntries;

  constructor(registry: Registry) {
    const registers = [registry];
    this.liveStreams = new Gauge({ name: 'support_streams_live', help: 'Chat streams open now, by the role their method serves (customer, agent).', labelNames: ['role'], registers });
    this.callsEnded = new Counter({ name: 'support_calls_ended_total', help: 'Chat calls ended, by gRPC method and the status code their client got.', labelNames: ['method', 'code'], registers });
    this.authFailures = new Counter({ name: 'support_auth_failures_total', help: 'Calls refused for their credentials (or ended when a token expired), by reason.', labelNames: ['reason'], registers });
    this.throttled = new Counter({ name: 'support_requests_throttled_total', help: 'Requests that waited for their stream\'s request rate (--max-messages-per-second).', registers });
    this.cuts = new Counter({ name: 'support_streams_cut_total', help: 'Streams the server ended early: overflow (the client read too slowly), buffer-budget (--max-buffered-bytes), takeover.', labelNames: ['reason'], registers });
    const committed = this.committed;
    new Counter({
      name: 'support_entries_committed_total',
      help: 'Entries (messages) committed by this process, by author role.',
      labelNames: ['author'],
      registers,
      collect() {
        this.reset();
        this.inc({ author: 'customer' }, committed.customer);
        this.inc({ author: 'agent' }, committed.agent);
      },
    });
    this.deliveryLatency = new LeanHistogram('support_delivery_latency_seconds', 'From an entry\'s date (taken as its commit begins) to its write on a receiving stream.', LATENCY_BUCKETS);
    this.batchSize = new LeanHistogram('support_store_commit_batch_size', 'Writes committed together in one transaction (SQLite: every queued write; PostgreSQL: entries).', BATCH_BUCKETS);
    this.commitDuration = new LeanHistogram('support_store_commit_duration_seconds', 'How long one such commit took.', LATENCY_BUCKETS);
    this.idleEnded = new Counter({ name: 'support_idle_sessions_ended_total', help: 'Sessions the idle timeout ended (--idle-timeout-seconds).', registers });
    this.retainedSessions = new Counter({ name: 'support_retention_deleted_sessions_total', help: 'Ended sessions deleted by retention (--retention-days).', registers });
    this.retainedEntries = new Counter({ name: 'support_retention_deleted_entries_total', help: 'Entries deleted with those sessions.', registers });
    // Series that exist from the start, so that rate() sees their first increase.
    for (const role of ['customer', 'agent']) this.liveStreams.set({ role }, 0);
    for (const reason of ['overflow', 'buffer-budget', 'takeover'] satisfies StreamCut[]) this.cuts.inc({ reason }, 0);
  }

  streamOpened(side: Side): void {
    this.liveStreams.inc({ role: side });
  }

  streamClosed(side: Side, method: string, code: string): void {
    this.liveStreams.dec({ role: side });
    this.callsEnded.inc({ method, code });
  }

  authenticationFailed(reason: string): void {
    this.authFailures.inc({ reason });
  }

  requestThrottled(): void {
    this.throttled.inc();
  }

  streamCut(why: StreamCut): void {
    this.cuts.inc({ reason: why });
  }

  entryCommitted(author: Side): void {
    this.committed[author]++;
  }

  entryDelivered(date: Date): void {
    // Never negative: an entry's date may be a little ahead when the clock stepped back.
    this.deliveryLatency.observe(Math.max(0, Date.now() - date.getTime()) / 1000);
  }

  batchCommitted(writes: number, seconds: number): void {
    this.batchSize.observe(writes);
    this.commitDuration.observe(seconds);
  }

  idleSessionsEnded(sessions: number): void {
    this.idleEnded.inc(sessions);
  }

  retentionDeleted(sessions: number, entries: number): void {
    this.retainedSessions.inc(sessions);
    this.retainedEntries.inc(entries);
  }

  /** The histograms, in the Prometheus text format: served after the registry's metrics. */
  histogramsText(): string {
    return [this.deliveryLatency, this.batchSize, this.commitDuration].map((h) => h.text()).join('\n');
  }
}
