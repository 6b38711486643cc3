import { status as Status, type ServerDuplexStream } from '@grpc/grpc-js';
import type { StreamId } from '../domain/event-bus';
import { CallOutcome } from './call-outcome';
import type { Metrics } from '../domain/metrics';
import type { CallStatus } from './grpc-status';
import type { BudgetHolder, OutboundBudget } from './outbound-budget';
import { OutboundQueue, type OutboundLimits } from './outbound-queue';
import { pumpRequests } from './request-pump';

/** What bounds a stream's responses: its own limits, and the budget shared by every stream; where a cut is reported. */
export type Outbound = Readonly<{ limits: OutboundLimits; budget: OutboundBudget; metrics: Pick<Metrics, 'streamCut'> }>;

/**
 * The one adapter between a grpc-js duplex call and a handler: requests in one at a time
 * (request-pump.ts); responses, already encoded, out through a queue bounded in count and bytes
 * that waits for `drain` (outbound-queue.ts), within the server-wide budget (outbound-budget.ts);
 * and the status the call ends with (call-outcome.ts). `signal` fires exactly once, as soon as the
 * call ends in any way (half-close, error, client cancel, takeover, shutdown); cleanup hangs off
 * it. `onFinished` reports, once grpc-js is done with the call, the status the client really got.
 */
export class CallStream<Req> implements BudgetHolder {
  private readonly controller = new AbortController();
  readonly signal: AbortSignal = this.controller.signal;
  private readonly outbound: OutboundQueue;
  private readonly outcome: CallOutcome;

  constructor(
    /** Unique over the deployment (see StreamId). */
    readonly id: StreamId,
    private readonly call: ServerDuplexStream<Req, unknown>,
    private readonly bounds: Outbound,
    onFinished: (status: CallStatus) => void,
  ) {
    // Responses are encoded by the handler (to count their bytes), so grpc-js passes them through.
    this.outbound = new OutboundQueue(call, bounds.limits, bounds.budget);
    bounds.budget.join(this);
    this.outcome = new CallOutcome(call, (delivered) => {
      this.outbound.release();
      bounds.budget.leave(this);
      this.controller.abort();
      onFinished(delivered);
    });
  }

  /** Hands the requests to `handle` in the order sent, one at a time (see pumpRequests). */
  eachRequest(handle: (request: Req) => Promise<void>): Promise<void> {
    return pumpRequests(this.call, this.signal, handle);
  }

  /**
   * Queues an encoded response. A client that lets the stream's limit of responses or bytes pile
   * up is cut off with RESOURCE_EXHAUSTED: the server's memory per stream stays bounded whatever
   * the client does.
   */
  push(response: Uint8Array): void {
    if (this.outcome.over) return;
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
   * queue is dropped at once, since the client resumes and finds all of it in the history. Calls
   * once the call is over are ignored.
   */
  end(status: CallStatus): void {
    if (this.outcome.over) return;
    if (status.code === Status.OK) this.outbound.writeAll();
    else this.outbound.drop();
    this.outcome.end(status, this.bounds.limits.resetAfterEndMs, () => this.reset());
    this.controller.abort();
  }

  /** Bytes not yet written to the connection (budget and leak checks). */
  get unsentBytes(): number {
    return this.outbound.unsentBytes;
  }

  get ended(): boolean {
    return this.outcome.over;
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
    this.outcome.reset();
    this.outbound.release();
  }
}
