import fs from 'node:fs';
import type pg from 'pg';

const CLOCK_TICKS = 100; // USER_HZ on Linux
const SAMPLE_EVERY_MS = 200;

/** CPU seconds that PostgreSQL's processes spent in a window for the clients under test (other clients' backends left out). */
export type PostgresCpuSeconds = Readonly<{
  /** The backends of the connections named `applicationName` (the instances under test). */
  ours: number;
  /** The server's own processes: postmaster, walwriter, checkpointer, background writer, autovacuum, ... (shared with any other client). */
  server: number;
}>;

/**
 * The CPU time of every `postgres` process on this machine over a window, read from /proc (user +
 * system time of /proc/<pid>/stat, as for the servers under test). The processes are sampled every
 * 200 ms, so a process that starts in the window counts from zero and one that ends counts up to
 * its last sample. A backend is told from the server's own processes by its title (a client
 * address in it), and ours from other clients' by pg_stat_activity's application_name, asked once
 * the window is over (the instances' pooled connections outlive it).
 */
export class PostgresCpu {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private readonly clientBackends = new Set<number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: pg.Client,
    private readonly applicationName: string,
  ) {}

  /** Takes the first sample now, and samples on until `end`. */
  start(): void {
    this.sample(true);
    this.timer = setInterval(() => this.sample(false), SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  /** Takes the last sample now. */
  end(): void {
    clearInterval(this.timer);
    this.sample(false);
  }

  /** The CPU seconds between `start` and `end`, by whom. */
  async seconds(): Promise<PostgresCpuSeconds> {
    const { rows } = await this.client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [this.applicationName]);
    const ours = new Set(rows.map((row) => row.pid));
    const seconds = { ours: 0, server: 0 };
    for (const [pid, last] of this.last) {
      const used = (last - (this.first.get(pid) ?? 0)) / CLOCK_TICKS;
      if (ours.has(pid)) seconds.ours += used;
      else if (!this.clientBackends.has(pid)) seconds.server += used;
    }
    return seconds;
  }

  private sample(initial: boolean): void {
    for (const name of fs.readdirSync('/proc')) {
      const pid = Number(name);
      if (!Number.isInteger(pid)) continue;
      let stat: string;
      try {
        stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue; // it ended meanwhile
      }
      if (!stat.includes(' (postgres) ')) continue;
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      if (!this.last.has(pid)) {
        this.first.set(pid, initial ? ticks : 0);
        if (isClientBackend(pid)) this.clientBackends.add(pid);
      }
      this.last.set(pid, ticks);
    }
  }
}

/** A backend's title names its client: `postgres: 15/main: user db 127.0.0.1(40512) idle` (or `[local]`). */
function isClientBackend(pid: number): boolean {
  try {
    return /\(\d+\)|\[local\]/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return false;
  }
}
