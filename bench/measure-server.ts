import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runLoad, type LoadMode, type LoadResult } from './load-generator';
import { startServerChild } from './server-child';

/**
 * A run sends tens of thousands of messages per session, far past the default 2 MiB and 10,000
 * entries of one session's history (SPEC §6), which would end the streams with RESOURCE_EXHAUSTED:
 * lift those limits, which the bare relay does not have either. Likewise the per-stream rate limit (50 requests/s by
 * default, for human chat) is turned off: the load generator sends as fast as the server takes.
 */
export function realServerArgs(dbFile: string): string[] {
  return ['--port', '0', '--db', dbFile, '--max-history-bytes', String(2 ** 40), '--max-messages-per-second', '0'];
}

/**
 * The same for limits newer than some builds that `bench:compare` may measure: as variables, which
 * an older build ignores, where it would refuse an unknown flag.
 */
export const REAL_SERVER_ENV: Readonly<Record<string, string>> = { SUPPORT_MAX_HISTORY_ENTRIES: String(2 ** 40) };

/** One server process under one load: what it delivered, and what it cost. */
export type Measurement = Readonly<{ result: LoadResult; cpuMicrosPerMessage: number; peakRssMiB: number }>;

export type MeasuredLoad = Readonly<{ sessions: number; mode: LoadMode; warmupMs: number; durationMs: number }>;

/**
 * Starts `node <entry> ...args(dir)` (with `env` added) on a fresh temp folder `dir` (for its database), runs `load`
 * against it, and stops it. CPU per message is the server's CPU time in the measured window over
 * the messages delivered in it.
 */
export async function measureServer(entry: string, args: (dir: string) => string[], load: MeasuredLoad, env: Readonly<Record<string, string>> = {}): Promise<Measurement> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'support-bench-'));
  const child = await startServerChild(entry, args(dir), env);
  let cpuAtStart = 0;
  let cpuInWindow = 0;
  try {
    const result = await runLoad(
      child.address,
      { ...load, connectionsPerRole: Math.max(2, Math.ceil(load.sessions / 90)), messageBytes: 64 },
      (edge) => (edge === 'start' ? (cpuAtStart = child.cpuSeconds()) : (cpuInWindow = child.cpuSeconds() - cpuAtStart)),
    );
    const cpuMicrosPerMessage = result.delivered > 0 ? (cpuInWindow * 1e6) / result.delivered : Infinity;
    return { result, cpuMicrosPerMessage, peakRssMiB: child.rss().peakMiB };
  } finally {
    await child.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
