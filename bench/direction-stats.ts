/** Loss, duplication and order of one direction of one session, plus the latencies measured. */
export type DeliveryCounts = Readonly<{ sent: number; lost: number; duplicated: number; reordered: number }>;

/**
 * One direction of one session: numbers the messages it sends (`<seq> <send time>`), and checks
 * what the other side receives: each exactly once, in order; latency = receive time − send time
 * (one process, one clock).
 */
export class DirectionStats {
  private nextSeq = 0;
  private expected = 0;
  private readonly seen = new Set<number>();
  private delivered = 0;
  private windowStart = 0;
  private duplicated = 0;
  private reordered = 0;
  private readonly latencies: number[] = [];
  /** Called after each delivery (the load generator refills its window). */
  onDelivered: () => void = () => {};

  nextMessage(measured: boolean): string {
    const text = `${this.nextSeq++} ${measured ? performance.now().toFixed(3) : '-'} `;
    return text;
  }

  received(text: string): void {
    const [seqText, sentAt] = text.split(' ', 2);
    const seq = Number(seqText);
    if (this.seen.has(seq) || seq < this.expected) {
      this.duplicated++;
      return;
    }
    if (seq !== this.expected) this.reordered++;
    this.seen.add(seq);
    while (this.seen.has(this.expected)) this.seen.delete(this.expected++);
    this.delivered++;
    if (sentAt !== '-') this.latencies.push(performance.now() - Number(sentAt));
    this.onDelivered();
  }

  inFlight(): number {
    return this.nextSeq - this.delivered;
  }

  startWindow(): void {
    this.windowStart = this.delivered;
  }

  deliveredInWindow(): number {
    return this.delivered - this.windowStart;
  }

  static totals(all: DirectionStats[]): DeliveryCounts {
    const sum = (pick: (s: DirectionStats) => number) => all.reduce((n, s) => n + pick(s), 0);
    return {
      sent: sum((s) => s.nextSeq),
      lost: sum((s) => s.nextSeq - s.delivered),
      duplicated: sum((s) => s.duplicated),
      reordered: sum((s) => s.reordered),
    };
  }

  static latencyPercentiles(all: DirectionStats[]): { p50: number; p99: number; max: number } {
    const sorted = all.flatMap((s) => s.latencies).sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0 };
  }
}
