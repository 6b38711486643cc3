import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Metrics } from '../domain/metrics';
import { EventMetrics } from './event-metrics';
import { serveMetrics, type MetricsServer } from './metrics-server';
import { registerStoreGauges, type StoreReadings } from './store-gauges';

/**
 * Everything `GET /metrics` shows, in a registry of this server's own (never prom-client's global
 * one: tests run several servers in one process): Node.js and process metrics (event-loop lag,
 * heap, GC, CPU, file descriptors), the events the server reports (`events`), and gauges read
 * from the store at scrape time.
 */
export class PrometheusMetrics {
  readonly registry = new Registry();
  /** What the domain, transport and storage report to. */
  readonly events: Metrics = new EventMetrics(this.registry);

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Adds the gauges read from the store, once it is open. */
  readStore(readings: StoreReadings): void {
    registerStoreGauges(this.registry, readings);
  }

  /** Serves `GET /metrics` on `host:port`. */
  serve(host: string, port: number): Promise<MetricsServer> {
    return serveMetrics(this.registry, host, port);
  }
}
