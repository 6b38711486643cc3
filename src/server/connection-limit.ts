import type { Server } from '@grpc/grpc-js';
import { http2ServersOf } from './http2-servers-of';

/**
 * SPEC §6 --max-connections: caps the concurrent connections of every listening socket of the
 * server (Node closes further ones as they are accepted, before any TLS or HTTP/2 work). grpc-js
 * has no option for it. Call it once the server is bound.
 */
export function limitConnections(server: Server, maxConnections: number): void {
  for (const netServer of http2ServersOf(server)) netServer.maxConnections = maxConnections;
}
