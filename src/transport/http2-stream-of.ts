import { constants as http2, type ServerHttp2Stream } from 'node:http2';
import type { ServerDuplexStream } from '@grpc/grpc-js';

/**
 * The HTTP/2 stream under a grpc-js server call. grpc-js has no public API for it; we reach it
 * through the call chain (`call.call`, then `nextCall` of each interceptor). Undefined if that
 * shape ever changes, and callers then fall back to what grpc-js offers.
 */
export function http2StreamOf(call: ServerDuplexStream<unknown, unknown>): ServerHttp2Stream | undefined {
  let link: unknown = (call as unknown as { call?: unknown }).call;
  for (let depth = 0; link && depth < 10; depth++) {
    const stream = (link as { stream?: ServerHttp2Stream }).stream;
    if (stream && typeof stream.close === 'function') return stream;
    link = (link as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}

/**
 * Resets the call's HTTP/2 stream (RST_STREAM CANCEL), freeing everything it holds: once a status
 * is queued behind responses that a client never reads, grpc-js would keep the call open forever.
 */
export function resetCall(call: ServerDuplexStream<unknown, unknown>): void {
  const stream = http2StreamOf(call);
  if (!stream) call.destroy();
  else if (!stream.destroyed) stream.close(http2.NGHTTP2_CANCEL);
}

/**
 * Whether the call's status went out to the client: in trailers, or in a trailers-only response.
 * A client may cancel right after its half-close, racing the status; only this tells who won.
 */
export function statusWasSent(call: ServerDuplexStream<unknown, unknown>): boolean {
  const stream = http2StreamOf(call) as (ServerHttp2Stream & { sentTrailers?: Record<string, unknown> }) | undefined;
  if (!stream) return true; // cannot tell: trust that grpc-js sent it
  return stream.sentTrailers?.['grpc-status'] !== undefined || stream.sentHeaders?.['grpc-status'] !== undefined;
}
