import type { Http2Server, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Server } from '@grpc/grpc-js';

/** Headers that must be seen with every value the client sent, not just the first. */
const MULTI_VALUE = ['authorization'];

/**
 * Node's HTTP/2 server keeps only the first value of headers it knows as single-valued, among them
 * `authorization`, so a request with two `authorization` values would look like one with one (SPEC
 * §1 says repeated → UNAUTHENTICATED). Before grpc-js reads the headers of a new stream, put every
 * raw value back, so the metadata carries them all. grpc-js does not expose its HTTP/2 servers: we
 * read its private `http2Servers` map and fail loudly at start-up if that ever changes.
 */
export function keepRepeatedHeaders(server: Server): void {
  const http2Servers = (server as unknown as { http2Servers?: Map<Http2Server, unknown> }).http2Servers;
  if (!(http2Servers instanceof Map) || http2Servers.size === 0) {
    throw new Error('cannot reach the HTTP/2 servers of grpc-js to check for repeated authorization headers');
  }
  for (const http2Server of http2Servers.keys()) http2Server.prependListener('stream', restoreRepeatedValues);
}

function restoreRepeatedValues(_stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]): void {
  for (const name of MULTI_VALUE) {
    const values = rawHeaders.filter((_, i) => i % 2 === 1 && rawHeaders[i - 1]!.toLowerCase() === name);
    if (values.length > 1) (headers as Record<string, string | string[]>)[name] = values;
  }
}
