import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The metrics endpoint, listening. */
export type MetricsServer = Readonly<{
  /** The bound port (the real one when 0 was asked for). */
  port: number;
  /** Stops listening and drops its connections (a scrape under way is cut). */
  close: () => void;
}>;

/**
 * A plain HTTP server, apart from the gRPC port, answering `GET /metrics` with what `metrics`
 * gives (the Prometheus text format, of `contentType`), and 404 to anything else.
 */
export function serveMetrics(metrics: () => Promise<string>, contentType: string, host: string, port: number): Promise<MetricsServer> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    metrics().then(
      (text) => response.writeHead(200, { 'content-type': contentType }).end(text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${error instanceof Error ? error.message : String(error)}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => {
          server.close();
          server.closeAllConnections();
        },
      });
    });
  });
}
