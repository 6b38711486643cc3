import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { OutboundBudget } from './outbound-budget';

/** How much a stream may hold for a client that reads slowly (SPEC §6 --stream-queue). */
export type OutboundLimits = Readonly<{
  responses: number;
  bytes: number;
  /** How long a stream that was ended may wait for a client that reads nothing before it is reset. */
  resetAfterEndMs: number;
}>;

/**
 * The encoded responses of one call on their way to its client: written to grpc-js as long as it
 * takes them, then held here until `drain`. It counts the bytes not yet written to the connection
 * (queued here, or handed to grpc-js and not yet written), for the stream's own limits and for the
 * server-wide budget.
 */
export class OutboundQueue {
  private readonly queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private transportBytes = 0;
  private waitingForDrain = false;
  /** Once released, nothing of this call counts any more (late write callbacks are ignored). */
  private released = false;
  /** See BudgetHolder.stalledSince. */
  stalledSince: number | undefined;

  constructor(
    private readonly call: ServerDuplexStream<unknown, Uint8Array>,
    private readonly limits: OutboundLimits,
    private readonly budget: OutboundBudget,
  ) {}

  get unsentBytes(): number {
    return this.queuedBytes + this.transportBytes;
  }

  /** Whether one more response of `bytes` stays within the stream's own limits. */
  fits(bytes: number): boolean {
    return this.queue.length < this.limits.responses && this.unsentBytes + bytes <= this.limits.bytes;
  }

  /** Queues a response and writes what grpc-js takes now. The budget may end the stream meanwhile (see `drop`). */
  push(response: Uint8Array): void {
    if (this.released) return;
    if (this.unsentBytes === 0) this.stalledSince = performance.now();
    this.queue.push(response);
    this.queuedBytes += response.length;
    this.budget.add(response.length);
    this.flush();
  }

  /** Writes everything queued at once (the call ends normally: its client gets all of it first). */
  writeAll(): void {
    for (const response of this.queue.splice(0)) {
      this.queuedBytes -= response.length;
      this.write(response);
    }
  }

  /** Drops everything queued: the server ended the call, and its client finds all of it in the history. */
  drop(): void {
    this.queue.length = 0;
    this.budget.release(this.queuedBytes);
    this.queuedBytes = 0;
    if (this.unsentBytes === 0) this.stalledSince = undefined;
  }

  /** The call is over (finished, or reset): nothing of it counts any more. Safe to call twice. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.queue.length = 0;
    this.budget.release(this.unsentBytes);
    this.queuedBytes = 0;
    this.transportBytes = 0;
    this.stalledSince = undefined;
  }

  private flush(): void {
    while (!this.waitingForDrain && this.queue.length > 0) {
      const response = this.queue.shift()!;
      this.queuedBytes -= response.length;
      if (!this.write(response)) {
        this.waitingForDrain = true;
        this.call.once('drain', () => {
          this.waitingForDrain = false;
          if (!this.released) this.flush();
        });
      }
    }
  }

  private write(response: Uint8Array): boolean {
    this.transportBytes += response.length;
    return this.call.write(response, () => {
      if (this.released) return;
      this.transportBytes -= response.length;
      this.budget.release(response.length);
      this.stalledSince = this.unsentBytes === 0 ? undefined : performance.now(); // it moved
    });
  }
}
