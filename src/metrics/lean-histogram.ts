/**
 * A Prometheus histogram without labels, for values observed once per message or per commit:
 * `observe` finds the bucket and adds to preallocated counters, allocating nothing. prom-client's
 * own Histogram allocates a closure and two objects per observation, which at a moderate load
 * cost about 3% of the server's CPU per message (BENCHMARKS.md, "Metrics' cost"). It writes
 * itself in the same text format, after the registry's metrics (`text`).
 */
export class LeanHistogram {
  /** Observations per bucket, not cumulative; the last is above every bound (+Inf). */
  private readonly counts: Float64Array;
  private sum = 0;

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
  }

  /** The histogram in the Prometheus text format (version 0.0.4), ending with a newline. */
  text(): string {
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} histogram`];
    let cumulative = 0;
    this.bounds.forEach((bound, i) => {
      cumulative += this.counts[i]!;
      lines.push(`${this.name}_bucket{le="${bound}"} ${cumulative}`);
    });
    cumulative += this.counts[this.bounds.length]!;
    lines.push(`${this.name}_bucket{le="+Inf"} ${cumulative}`, `${this.name}_sum ${this.sum}`, `${this.name}_count ${cumulative}`);
    return lines.join('\n') + '\n';
  }
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
