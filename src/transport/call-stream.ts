import { status as Status, type ServerDuplexStream } from '@grpc/grpc-js';
import type { CallStatus } from './grpc-status';
import { resetCall, statusWasSent } from './http2-stream-of';

/** How long a stream that was ended may wait for a client that reads nothing before it is reset (SPEC §6). */
const RESET_AFTER_END_MS = 30_000;

let lastCallId = 0;

/** How much a stream may hold for a client that reads slowly (SPEC §6 --stream-queue). */
export type OutboundLimits = Readonly<{ responses: number; bytes: number }>;

/**
 * The one adapter between a grpc-js duplex call and a handler: requests are handed to the handler
 * one at a time (and read only a little ahead, so HTTP/2 flow control pushes back on a fast
 * sender); responses, already encoded, go out through a queue bounded in count and bytes that
 * waits for `drain`.
 * `signal` fires exactly once, as soon as the call ends in any way (half-close, error, client
 * cancel, takeover, shutdown); cleanup hangs off it. `onFinished` reports, once grpc-js is done
 * with the call, the status the client really got.
 */
export class CallStream<Req> {
  /** Unique per call in this process. */
  readonly id = ++lastCallId;
  private readonly controller = new AbortController();
  readonly signal: AbortSignal = this.controller.signal;
  private readonly queue: Uint8Array[] = [];
  /** Bytes queued here or handed to grpc-js and not yet written to the connection. */
  private unsentBytes = 0;
  private waitingForDrain = false;
  /** The status this side ended the call with, once it has. */
  private ending: CallStatus | undefined;
  private readonly call: ServerDuplexStream<Req, Uint8Array>;

  constructor(
    call: ServerDuplexStream<Req, unknown>,
    private readonly limits: OutboundLimits,
    private readonly onFinished: (status: CallStatus) => void,
  ) {
    // Responses are encoded by the handler (to count their bytes), so grpc-js passes them through.
    this.call = call as ServerDuplexStream<Req, Uint8Array>;
    // grpc-js emits 'cancelled' once it is done with a call: after sending its status, or when the
    // client reset the stream or its connection died before that status went out.
    call.once('cancelled', () => {
      const delivered = this.ending && statusWasSent(this.untyped) ? this.ending : CANCELLED;
      this.ending ??= delivered;
      this.controller.abort();
      this.onFinished(delivered);
    });
  }

  /**
   * Hands the requests to `handle` in the order sent, one at a time: the next once the previous
   * one's promise settles. Resolves on half-close or as soon as the call ends; rejects with what
   * `handle` threw. A few requests are read ahead; past that the call is paused, so HTTP/2 flow
   * control pushes back on a client that sends faster than its requests are handled. (Node's own
   * stream iterator is not used: it destroys the call when an error status is emitted, dropping the
   * responses still queued before that status. Pausing only past a read-ahead, not after every
   * request, spares the stream machinery a pause and a resume per message.)
   */
  async eachRequest(handle: (request: Req) => Promise<void>): Promise<void> {
    const waiting: Req[] = [];
    let paused = false;
    let inputEnded = false;
    let wake: (() => void) | undefined;
    const onData = (request: Req) => {
      waiting.push(request);
      if (waiting.length >= READ_AHEAD && !paused) {
        paused = true;
        this.call.pause();
      }
      wake?.();
    };
    const onEnd = () => {
      inputEnded = true;
      wake?.();
    };
    this.call.on('data', onData);
    this.call.on('end', onEnd);
    this.signal.addEventListener('abort', onEnd);
    try {
      while (!this.signal.aborted) { // nothing after the call ended
        const request = waiting.shift();
        if (request !== undefined) {
          if (paused && waiting.length < READ_AHEAD / 2) {
            paused = false;
            this.call.resume();
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
      this.call.off('data', onData);
      this.call.off('end', onEnd);
      this.signal.removeEventListener('abort', onEnd);
    }
  }

  /**
   * Queues an encoded response. A client that lets `limits.responses` responses, or
   * `limits.bytes` bytes, pile up is cut off with RESOURCE_EXHAUSTED: the server's memory per
   * stream stays bounded whatever the client does.
   */
  push(response: Uint8Array): void {
    if (this.ending) return;
    if (this.queue.length >= this.limits.responses || this.unsentBytes + response.length > this.limits.bytes) {
      this.unsentBytes -= this.queue.reduce((n, r) => n + r.length, 0);
      this.queue.length = 0; // the client resumes and finds all of it in the history
      this.end({ code: Status.RESOURCE_EXHAUSTED, details: 'the client reads too slowly; resume the session to catch up' });
      return;
    }
    this.queue.push(response);
    this.unsentBytes += response.length;
    this.flush();
  }

  /**
   * Ends the call with `status` after the queued responses (written at once: they are within the
   * limits). Later calls are ignored. A client that still reads nothing is reset after 30 s.
   */
  end(status: CallStatus): void {
    if (this.ending) return;
    this.ending = status;
    for (const response of this.queue.splice(0)) this.write(response);
    if (status.code === Status.OK) this.call.end();
    else this.call.emit('error', { code: status.code, details: status.details });
    this.controller.abort();
    const reset = setTimeout(() => resetCall(this.untyped), RESET_AFTER_END_MS);
    reset.unref();
    this.call.once('cancelled', () => clearTimeout(reset));
  }

  private get untyped(): ServerDuplexStream<unknown, unknown> {
    return this.call as ServerDuplexStream<unknown, unknown>;
  }


  private flush(): void {
    while (!this.waitingForDrain && this.queue.length > 0) {
      if (!this.write(this.queue.shift()!)) {
        this.waitingForDrain = true;
        this.call.once('drain', () => {
          this.waitingForDrain = false;
          if (!this.ending) this.flush();
        });
      }
    }
  }

  private write(response: Uint8Array): boolean {
    return this.call.write(response, () => (this.unsentBytes -= response.length));
  }
}

/** Requests read ahead of the one being handled before the call is paused (see eachRequest). */
const READ_AHEAD = 16;

const CANCELLED: CallStatus = { code: Status.CANCELLED, details: 'cancelled by the client' };
