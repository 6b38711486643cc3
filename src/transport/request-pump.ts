import type { ServerDuplexStream } from '@grpc/grpc-js';

/** Requests read ahead of the one being handled before the call is paused. */
const READ_AHEAD = 16;

/**
 * Hands the call's requests to `handle` in the order sent, one at a time: the next once the
 * previous one's promise settles. Resolves on half-close or as soon as `signal` fires; rejects
 * with what `handle` threw. A few requests are read ahead; past that the call is paused, so HTTP/2
 * flow control pushes back on a client that sends faster than its requests are handled. (Node's
 * own stream iterator is not used: it destroys the call when an error status is emitted, dropping
 * the responses still queued before that status. Pausing only past a read-ahead, not after every
 * request, spares the stream machinery a pause and a resume per message.)
 */
export async function pumpRequests<Req>(
  call: ServerDuplexStream<Req, unknown>,
  signal: AbortSignal,
  handle: (request: Req) => Promise<void>,
): Promise<void> {
  const waiting: Req[] = [];
  let paused = false;
  let inputEnded = false;
  let wake: (() => void) | undefined;
  const onData = (request: Req) => {
    waiting.push(request);
    if (waiting.length >= READ_AHEAD && !paused) {
      paused = true;
      call.pause();
    }
    wake?.();
  };
  const onEnd = () => {
    inputEnded = true;
    wake?.();
  };
  call.on('data', onData);
  call.on('end', onEnd);
  signal.addEventListener('abort', onEnd);
  try {
    while (!signal.aborted) { // nothing after the call ended
      const request = waiting.shift();
      if (request !== undefined) {
        if (paused && waiting.length < READ_AHEAD / 2) {
          paused = false;
          call.resume();
        }
        await handle(request);
      } else if (inputEnded) {
        return;
      } else {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    }
  } finally {
    call.off('data', onData);
    call.off('end', onEnd);
    signal.removeEventListener('abort', onEnd);
  }
}
