import type { Server as NetServer } from 'node:net';
import type { Server } from '@grpc/grpc-js';

/**
 * SPEC §6 --max-connections: caps the concurrent connections of every listening socket of the
 * server (Node refuses further ones at accept, before any TLS or HTTP/2 work). grpc-js has no
 * option for it and does not expose its HTTP/2 servers: they are read from its private
 * `http2Servers` map, and start-up fails loudly if that ever changes.
 */
export function limitConnections(server: Server, maxConnections: number): void {
  const http2Servers = (server as unknown as { http2Servers?: Map<NetServer, unknown> }).http2Servers;
  if (!(http2Servers instanceof Map) || http2Servers.size === 0) {
    throw new Error('cannot reach the HTTP/2 servers of grpc-js to limit connections');
  }
  for (const netServer of http2Servers.keys()) netServer.maxConnections = maxConnections;
}
