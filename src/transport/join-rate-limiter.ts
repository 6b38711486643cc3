import { ChatError } from '../domain/chat-error';

type Bucket = { tokens: number; at: number };

/** Buckets are swept this often, so that users who stopped joining are forgotten. */
const SWEEP_EVERY_MS = 60_000;

/**
 * SPEC §6 --max-joins-per-minute: `init` and `accept` requests per user id, over all its streams.
 * A join reads and sends a whole history, so resuming a large session in a loop is refused with
 * RESOURCE_EXHAUSTED rather than served. A token bucket per user: `perMinute` at once, then one
 * more every 60/`perMinute` seconds; 0 turns it off.
 */
export class JoinRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private sweptAt: number;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.sweptAt = now();
  }

  /** Counts one join of `userId`; throws `resource-exhausted` when the user has no join left. */
  take(userId: string): void {
    if (this.perMinute === 0) return;
    const now = this.now();
    const tokens = this.tokensAt(this.buckets.get(userId), now);
    if (tokens < 1) {
      const waitSeconds = Math.ceil(((1 - tokens) * 60) / this.perMinute);
      this.buckets.set(userId, { tokens, at: now });
      throw new ChatError('resource-exhausted', `more than ${this.perMinute} joins (init or accept) a minute for this user; try again in ${waitSeconds} s`);
    }
    this.buckets.set(userId, { tokens: tokens - 1, at: now });
    if (now - this.sweptAt >= SWEEP_EVERY_MS) this.sweep(now);
  }

  /** Users whose joins are being counted (memory checks). */
  get trackedUsers(): number {
    return this.buckets.size;
  }

  private tokensAt(bucket: Bucket | undefined, now: number): number {
    if (!bucket) return this.perMinute;
    return Math.min(this.perMinute, bucket.tokens + ((now - bucket.at) * this.perMinute) / 60_000);
  }

  /** Forgets the users whose bucket has filled up again: they are as if they had never joined. */
  private sweep(now: number): void {
    this.sweptAt = now;
    for (const [userId, bucket] of this.buckets) {
      if (this.tokensAt(bucket, now) >= this.perMinute) this.buckets.delete(userId);
    }
  }
}
