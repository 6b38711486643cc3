/** Exponential backoff between reconnection attempts. */
export type BackoffOptions = {
  /** Delay before the first attempt after a break, in ms (default 250). */
  initialMs?: number;
  /** Largest delay, in ms (default 10 000). */
  maxMs?: number;
  /** Growth per attempt (default 2). */
  multiplier?: number;
  /** Each delay is randomised by ± this fraction (default 0.2), so clients cut off together do not return together. */
  jitter?: number;
};

/** When to stop reconnecting; both limits may be set, the first reached wins. */
export type GiveUpOptions = {
  /** Attempts after a break before giving up (default: no limit). */
  maxAttempts?: number;
  /** Time since the break after which no new attempt starts, in ms (default 300 000: five minutes). */
  maxElapsedMs?: number;
};

/** The delays of one outage: `next()` gives the next delay, or undefined once it is time to give up. */
export class Backoff {
  private attempts = 0;
  private readonly startedAt = Date.now();
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly multiplier: number;
  private readonly jitter: number;

  constructor(
    backoff: BackoffOptions,
    private readonly giveUp: GiveUpOptions,
    private readonly random: () => number = Math.random,
  ) {
    this.initialMs = backoff.initialMs ?? 250;
    this.maxMs = Math.max(backoff.maxMs ?? 10_000, this.initialMs);
    this.multiplier = backoff.multiplier ?? 2;
    this.jitter = Math.min(Math.max(backoff.jitter ?? 0.2, 0), 1);
  }

  /** The attempt number the last `next()` was for (1-based). */
  get attempt(): number {
    return this.attempts;
  }

  next(): number | undefined {
    if (this.giveUp.maxAttempts !== undefined && this.attempts >= this.giveUp.maxAttempts) return undefined;
    const capped = Math.min(this.maxMs, this.initialMs * this.multiplier ** this.attempts);
    const delay = Math.round(capped * (1 + this.jitter * (2 * this.random() - 1)));
    const maxElapsedMs = this.giveUp.maxElapsedMs ?? 300_000;
    if (Date.now() - this.startedAt + delay > maxElapsedMs) return undefined;
    this.attempts++;
    return delay;
  }
}
