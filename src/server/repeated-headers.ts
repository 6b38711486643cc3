import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Server } from '@grpc/grpc-js';
import { http2ServersOf } from './http2-servers-of';

/** Headers that must be seen with every value the client sent, not just the first. */
const MULTI_VALUE = ['authorization'];

/**
 * Node's HTTP/2 server keeps only the first value of headers it knows as single-valued, among them
 * `authorization`, so a request with two `authorization` values would look like one with one (SPEC
 * §1 says repeated → UNAUTHENTICATED). Before grpc-js reads the headers of a new stream, put every
 * raw value back, so the metadata carries them all. Call it once the server is bound.
 */
export function keepRepeatedHeaders(server: Server): void {
  for (const http2Server of http2ServersOf(server)) http2Server.prependListener('stream', restoreRepeatedValues);
}

function restoreRepeatedValues(_stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]): void {
  for (const name of MULTI_VALUE) {
    const values = rawHeaders.filter((_, i) => i % 2 === 1 && rawHeaders[i - 1]!.toLowerCase() === name);
    if (values.length > 1) (headers as Record<string, string | string[]>)[name] = values;
  }
}
