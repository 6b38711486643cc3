import { constants as http2 } from 'node:http2';
import type { ServerDuplexStream } from '@grpc/grpc-js';

/**
 * Resets the HTTP/2 stream under a server call (RST_STREAM CANCEL), freeing everything it holds.
 * grpc-js has no public API for this: once a status is queued behind responses that a client never
 * reads, the call stays open forever. We reach the underlying `Http2Stream` through grpc-js's call
 * chain (`call.call`, then `nextCall` of each interceptor); if its shape changes, we fall back to
 * destroying the call object, and the keepalive still reaps dead connections.
 */
export function resetCall(call: ServerDuplexStream<unknown, unknown>): void {
  let link: unknown = (call as unknown as { call?: unknown }).call;
  for (let depth = 0; link && depth < 10; depth++) {
    const stream = (link as { stream?: { close?: (code: number) => void; destroyed?: boolean } }).stream;
    if (stream && typeof stream.close === 'function') {
      if (!stream.destroyed) stream.close(http2.NGHTTP2_CANCEL);
      return;
    }
    link = (link as { nextCall?: unknown }).nextCall;
  }
  call.destroy();
}
