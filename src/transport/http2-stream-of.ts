import { constants as http2, type ServerHttp2Stream } from 'node:http2';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { internalsChanged } from './grpc-internals';

/**
 * Where to report, once per process, that a call's HTTP/2 stream was not found. The chain only
 * exists with a call, so unlike the other private shapes it cannot be checked at start-up; the
 * server sets this when it starts.
 */
let reportMissingStream: ((error: Error) => void) | undefined;
let missingReported = false;

/** Tells `report` (once per process) when an upgrade of grpc-js has hidden the HTTP/2 stream of its calls. */
export function onHttp2StreamMissing(report: (error: Error) => void): void {
  reportMissingStream = report;
}

/**
 * The HTTP/2 stream under a grpc-js server call. grpc-js has no public API for it; we reach it
 * through the call chain (`call.call`, then `nextCall` of each interceptor). Undefined if that
 * shape ever changes (reported once, see onHttp2StreamMissing), and callers then fall back to
 * what grpc-js offers.
 */
export function http2StreamOf(call: ServerDuplexStream<unknown, unknown>): ServerHttp2Stream | undefined {
  let link: unknown = (call as unknown as { call?: unknown }).call;
  for (let depth = 0; link && depth < 10; depth++) {
    const stream = (link as { stream?: ServerHttp2Stream }).stream;
    if (stream && typeof stream.close === 'function') return stream;
    link = (link as { nextCall?: unknown }).nextCall;
  }
  reportMissing();
  return undefined;
}

function reportMissing(): void {
  if (missingReported || !reportMissingStream) return;
  missingReported = true;
  reportMissingStream(
    internalsChanged('@grpc/grpc-js', 'no HTTP/2 stream found along call.call and its nextCall links; stuck calls are destroyed instead of reset, and a status raced by a cancel is trusted as sent'),
  );
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
