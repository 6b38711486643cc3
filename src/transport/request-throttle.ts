/**
 * A stream's request rate limit (--max-messages-per-second, --message-burst: every request counts,
 * not only messages, since each costs the server a step): `perSecond` 0 turns it off.
 */
export type RequestRate = Readonly<{ perSecond: number; burst: number }>;

/**
 * A token bucket per stream. A stream over its rate is not cut off: the caller waits before
 * taking its next request, and since a stream is read only as fast as its requests are taken,
 * HTTP/2 flow control makes the sender wait too. Other streams are not affected.
 */
export class RequestThrottle {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly rate: RequestRate,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = rate.burst;
    this.refilledAt = now();
  }

  /** Takes a token if one is there and returns 0; otherwise returns the milliseconds until one will be. */
  tryTake(): number {
    if (this.rate.perSecond === 0) return 0;
    const now = this.now();
    this.tokens = Math.min(this.rate.burst, this.tokens + ((now - this.refilledAt) * this.rate.perSecond) / 1000);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) * 1000) / this.rate.perSecond);
  }

  /** Resolves once a token is taken, or as soon as `signal` aborts (the stream ended: nothing to wait for). */
  async take(signal: AbortSignal): Promise<void> {
    for (let wait = this.tryTake(); wait > 0 && !signal.aborted; wait = this.tryTake()) {
      await sleepUnlessAborted(wait, signal);
    }
  }
}

function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
