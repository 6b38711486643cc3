/** How often a long copy says how far it got. */
const REPORT_EVERY_MS = 1_000;

/**
 * Progress lines of one copy phase (`entries: 120000 of 1000000 (12%)`), at most one a second
 * while it runs, and one when it is done, whatever its size.
 */
export class Progress {
  private lastReportAt = performance.now();

  constructor(
    private readonly what: string,
    private readonly total: number,
    private readonly report: (line: string) => void,
  ) {}

  update(done: number): void {
    const now = performance.now();
    if (now - this.lastReportAt < REPORT_EVERY_MS) return;
    this.lastReportAt = now;
    this.report(`${this.what}: ${done} of ${this.total} (${Math.floor((100 * done) / Math.max(this.total, 1))}%)`);
  }

  done(done: number): void {
    this.report(`${this.what}: ${done} copied`);
  }
}
