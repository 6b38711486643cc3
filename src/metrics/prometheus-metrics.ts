import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Metrics } from '../domain/metrics';
import { EventMetrics } from './event-metrics';
import { serveMetrics, type MetricsServer } from './metrics-server';
import { registerStoreGauges, type StoreReadings } from './store-gauges';

/**
 * How often the event loop's lag is sampled. Node's default, 10 ms, wakes an otherwise waiting
 * server 100 times a second, which cost a few percent of CPU per message at moderate load
 * (BENCHMARKS.md, "Metrics' cost"); 10 samples a second still show a stalled loop.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * Everything `GET /metrics` shows, in a registry of this server's own (never prom-client's global
 * one: tests run several servers in one process): Node.js and process metrics (event-loop lag,
 * heap, GC, CPU, file descriptors), the events the server reports (`events`), and gauges read
 * from the store at scrape time.
 */
export class PrometheusMetrics {
  readonly registry = new Registry();
  /** What the domain, transport and storage report to. */
  private readonly eventMetrics = new EventMetrics(this.registry);
  readonly events: Metrics = this.eventMetrics;

  constructor() {
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  }

  /** Adds the gauges read from the store, once it is open. */
  readStore(readings: StoreReadings): void {
    registerStoreGauges(this.registry, readings);
  }

  /** Serves `GET /metrics` on `host:port`. */
  serve(host: string, port: number): Promise<MetricsServer> {
    return serveMetrics(async () => `${await this.registry.metrics()}\n${this.eventMetrics.histogramsText()}`, this.registry.contentType, host, port);
  }
}
