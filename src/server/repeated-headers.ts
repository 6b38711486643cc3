import type { Http2Server, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import net from 'node:net';
import type { Server } from '@grpc/grpc-js';
import { internalsChanged } from '../transport/grpc-internals';

/** Headers that must be seen with every value the client sent, not just the first. */
const MULTI_VALUE = ['authorization'];

/**
 * Node's HTTP/2 server keeps only the first value of headers it knows as single-valued, among them
 * `authorization`, so a request with two `authorization` values would look like one with one (SPEC
 * §1 says repeated → UNAUTHENTICATED). Before grpc-js reads the headers of a new stream, put every
 * raw value back, so the metadata carries them all. grpc-js does not expose its HTTP/2 servers: we
 * read its private `http2Servers` map (call this once the server is bound) and fail start-up
 * loudly if that ever changes (see grpc-internals.ts).
 */
export function keepRepeatedHeaders(server: Server): void {
  for (const http2Server of http2ServersOf(server)) http2Server.prependListener('stream', restoreRepeatedValues);
}

/** The HTTP/2 servers of a bound grpc-js server: the keys of its private `http2Servers` map. */
function http2ServersOf(server: Server): Http2Server[] {
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

function restoreRepeatedValues(_stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]): void {
  for (const name of MULTI_VALUE) {
    const values = rawHeaders.filter((_, i) => i % 2 === 1 && rawHeaders[i - 1]!.toLowerCase() === name);
    if (values.length > 1) (headers as Record<string, string | string[]>)[name] = values;
  }
}
