/**
 * Counts each user's concurrent streams over every connection (SPEC §6 --max-streams-per-user),
 * so that one signed-in client cannot hold an unbounded share of the server. `maxPerUser` 0 = no limit.
 */
export class UserStreams {
  private readonly counts = new Map<string, number>();

  constructor(private readonly maxPerUser: number) {}

  /** Counts a new stream of `userId`, unless the user already has the most allowed: then false, nothing counted. */
  tryOpen(userId: string): boolean {
    const count = this.counts.get(userId) ?? 0;
    if (this.maxPerUser > 0 && count >= this.maxPerUser) return false;
    this.counts.set(userId, count + 1);
    return true;
  }

  /** A stream counted by `tryOpen` has ended. */
  close(userId: string): void {
    const count = (this.counts.get(userId) ?? 1) - 1;
    if (count > 0) this.counts.set(userId, count);
    else this.counts.delete(userId);
  }

  /** Users with at least one stream (leak checks). */
  get users(): number {
    return this.counts.size;
  }
}
