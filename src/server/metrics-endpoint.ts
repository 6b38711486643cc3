import type { Config } from '../config/config';
import { noMetrics, type Metrics } from '../domain/metrics';
import type { Logger } from '../log/logger';
import { PrometheusMetrics } from '../metrics/prometheus-metrics';
import type { ChatBackend } from './chat-backend';

/** Metrics as the server wires them: what to report to, and (once the store is open) the endpoint. */
export type ServerMetrics = Readonly<{
  /** Where the domain, transport and storage report: `noMetrics` when --metrics-port is not given. */
  events: Metrics;
  /** Serves GET /metrics, reading the backend's store at scrape time; resolves with the port (undefined when off) and how to close it. */
  serve: (backend: ChatBackend) => Promise<{ port: number | undefined; close: () => void }>;
}>;

/** Prometheus metrics if `config` asks for them (--metrics-port), otherwise nothing at all. */
export function serverMetrics(config: Config, logger: Logger): ServerMetrics {
  const port = config.metricsPort;
  if (port === undefined) return { events: noMetrics, serve: async () => ({ port: undefined, close: () => {} }) };
  const prometheus = new PrometheusMetrics();
  return {
    events: prometheus.events,
    serve: async (backend) => {
      prometheus.readStore({ queueStatistics: backend.queueStatistics, databaseBytes: backend.databaseBytes });
      const endpoint = await prometheus.serve(config.metricsHost, port);
      const host = config.metricsHost.includes(':') ? `[${config.metricsHost}]` : config.metricsHost;
      logger.info(`metrics on http://${host}:${endpoint.port}/metrics`, { metrics_host: config.metricsHost, metrics_port: endpoint.port });
      return endpoint;
    },
  };
}
