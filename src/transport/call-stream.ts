import { status as Status, type ServerDuplexStream } from '@grpc/grpc-js';
import type { StreamId } from '../domain/event-bus';
import type { Metrics } from '../domain/metrics';
import type { CallStatus } from './grpc-status';
import { resetCall, statusWasSent } from './http2-stream-of';
import type { BudgetHolder, OutboundBudget } from './outbound-budget';
import { OutboundQueue, type OutboundLimits } from './outbound-queue';

/** What bounds a stream's responses: its own limits, and the budget shared by every stream; where a cut is reported. */
export type Outbound = Readonly<{ limits: OutboundLimits; budget: OutboundBudget; metrics: Pick<Metrics, 'streamCut'> }>;

/**
 * The one adapter between a grpc-js duplex call and a handler: requests are handed to the handler
 * one at a time (and read only a little ahead, so HTTP/2 flow control pushes back on a fast
 * sender); responses, already encoded, go out through a queue bounded in count and bytes that
 * waits for `drain` (outbound-queue.ts), within the server-wide budget (outbound-budget.ts).
 * `signal` fires exactly once, as soon as the call ends in any way (half-close, error, client
 * cancel, takeover, shutdown); cleanup hangs off it. `onFinished` reports, once grpc-js is done
 * with the call, the status the client really got.
 */
export class CallStream<Req> implements BudgetHolder {
  private readonly controller = new AbortController();
  readonly signal: AbortSignal = this.controller.signal;
  private readonly outbound: OutboundQueue;
  /** The status this side ended the call with, once it has. */
  private ending: CallStatus | undefined;
  private readonly call: ServerDuplexStream<Req, Uint8Array>;

  constructor(
    /** Unique over the deployment (see StreamId). */
    readonly id: StreamId,
    call: ServerDuplexStream<Req, unknown>,
    private readonly bounds: Outbound,
    private readonly onFinished: (status: CallStatus) => void,
  ) {
    // Responses are encoded by the handler (to count their bytes), so grpc-js passes them through.
    this.call = call as ServerDuplexStream<Req, Uint8Array>;
    this.outbound = new OutboundQueue(this.untyped as ServerDuplexStream<unknown, Uint8Array>, bounds.limits, bounds.budget);
    bounds.budget.join(this);
    // grpc-js emits 'cancelled' once it is done with a call: after sending its status, or when the
    // client reset the stream or its connection died before that status went out.
    call.once('cancelled', () => {
      const delivered = this.ending && statusWasSent(this.untyped) ? this.ending : CANCELLED;
      this.ending ??= delivered;
      this.outbound.release();
      bounds.budget.leave(this);
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
   * Queues an encoded response. A client that lets the stream's limit of responses or bytes pile
   * up is cut off with RESOURCE_EXHAUSTED: the server's memory per stream stays bounded whatever
   * the client does.
   */
  push(response: Uint8Array): void {
    if (this.ending) return;
    if (!this.outbound.fits(response.length)) {
      this.bounds.metrics.streamCut('overflow');
      this.end({ code: Status.RESOURCE_EXHAUSTED, details: 'the client reads too slowly; resume the session to catch up' });
      return;
    }
    this.outbound.push(response);
  }

  /**
   * Ends the call with `status`. Ended with OK (the client half-closed), it first gets every
   * queued response; ended otherwise by the server (an error, overflow, takeover, shutdown), its
   * queue is dropped at once, since the client resumes and finds all of it in the history. Later
   * calls are ignored. A client that still reads nothing (the status waits behind what the
   * transport holds) is reset after `resetAfterEndMs`.
   */
  end(status: CallStatus): void {
    if (this.ending) return;
    this.ending = status;
    if (status.code === Status.OK) {
      this.outbound.writeAll();
      this.call.end();
    } else {
      this.outbound.drop();
      this.call.emit('error', { code: status.code, details: status.details });
    }
    this.controller.abort();
    const reset = setTimeout(() => this.reset(), this.bounds.limits.resetAfterEndMs);
    reset.unref();
    this.call.once('cancelled', () => clearTimeout(reset));
  }

  /** Bytes not yet written to the connection (budget and leak checks). */
  get unsentBytes(): number {
    return this.outbound.unsentBytes;
  }

  get ended(): boolean {
    return this.ending !== undefined;
  }

  get stalledSince(): number | undefined {
    return this.outbound.stalledSince;
  }

  endForBudget(): void {
    this.bounds.metrics.streamCut('buffer-budget');
    this.end({ code: Status.RESOURCE_EXHAUSTED, details: 'the server holds too many responses for slow clients; resume the session to catch up' });
  }

  resetForBudget(): void {
    this.reset();
  }

  /** Resets the HTTP/2 stream, freeing everything it holds. */
  private reset(): void {
    resetCall(this.untyped);
    this.outbound.release();
  }

  private get untyped(): ServerDuplexStream<unknown, unknown> {
    return this.call as ServerDuplexStream<unknown, unknown>;
  }
}

/** Requests read ahead of the one being handled before the call is paused (see eachRequest). */
const READ_AHEAD = 16;

const CANCELLED: CallStatus = { code: Status.CANCELLED, details: 'cancelled by the client' };
