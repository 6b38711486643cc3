import type { Http2Server } from 'node:http2';
import net from 'node:net';
import type { Server } from '@grpc/grpc-js';
import { internalsChanged } from '../transport/grpc-internals';

/**
 * The HTTP/2 servers of a bound grpc-js server: the keys of its private `http2Servers` map (grpc-js
 * does not expose them). Throws, naming the version, if that shape ever changes (see grpc-internals.ts).
 */
export function http2ServersOf(server: Server): Http2Server[] {
  const http2Servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(http2Servers instanceof Map)) throw internalsChanged('@grpc/grpc-js', 'Server.http2Servers is not a Map');
  const servers = [...(http2Servers as Map<unknown, unknown>).keys()];
  if (servers.length === 0) throw internalsChanged('@grpc/grpc-js', 'Server.http2Servers is empty after bindAsync');
  if (!servers.every(isHttp2Server)) throw internalsChanged('@grpc/grpc-js', 'the keys of Server.http2Servers are not HTTP/2 servers');
  return servers;
}

/** Node's HTTP/2 servers, plain and secure, are net.Servers. */
function isHttp2Server(value: unknown): value is Http2Server {
  return value instanceof net.Server;
}
