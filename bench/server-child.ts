import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** A server under test, as a child process (pinned to a core where taskset exists, see startServerChild). */
export type ServerChild = {
  readonly child: ChildProcess;
  readonly address: string;
  /** Milliseconds from spawn to the `listening on` log line. */
  readonly startupMs: number;
  /** CPU seconds (user + system) the process has used so far. */
  cpuSeconds(): number;
  /** Resident memory now and at its peak, in MiB. */
  rss(): { nowMiB: number; peakMiB: number };
  stop(): Promise<void>;
};

const DIST = path.resolve(__dirname, '..');
export const REAL_SERVER = path.join(DIST, 'src', 'main.js');
export const RELAY_SERVER = path.join(DIST, 'bench', 'relay-server.js');
const CLOCK_TICKS = 100; // USER_HZ on Linux

export const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * Starts `node <entry> ...args` (with `env` added to this process's) and waits for it to listen; on
 * `cores` (a taskset list, core 0 by default) when taskset exists.
 */
export async function startServerChild(entry: string, args: string[], env: Readonly<Record<string, string>> = {}, cores = '0'): Promise<ServerChild> {
  // e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the servers under load.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const command = hasTaskset ? 'taskset' : process.execPath;
  const argv = hasTaskset ? ['-c', cores, process.execPath, ...nodeArgs, entry, ...args] : [...nodeArgs, entry, ...args];
  const started = performance.now();
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const match = /listening on [^"\s]*:(\d+)/.exec(buffered);
      if (match) {
        child.stdout.off('data', onData);
        child.stdout.resume(); // keep draining the log so the server never blocks on stdout
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
  });
  const startupMs = performance.now() - started;
  const pid = child.pid!;
  return {
    child,
    address: `127.0.0.1:${port}`,
    startupMs,
    cpuSeconds: () => {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    },
    rss: () => {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
      return { nowMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024 };
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
