/**
 * `npm run bench:metrics-cost [-- --rounds 7 --rate 10 --sessions 100]`: the CPU per message of
 * the server with metrics off and on (issue 15), measured side by side: in each round both
 * servers run at the same time, pinned to the same core, each under the same fixed load from this
 * process (pinned to the other core). Whatever else the machine is doing then weighs on both
 * alike, which measuring one after the other (bench:compare) cannot promise on a shared machine.
 * Prints each round's ratio and the median. BENCHMARKS.md, "Metrics' cost".
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runLoad } from './load-generator';
import { realServerArgs, REAL_SERVER_ENV } from './measure-server';
import { hasTaskset, REAL_SERVER, startServerChild, type ServerChild } from './server-child';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const rounds = option('--rounds', 7);
const perSecond = option('--rate', 10);
const sessions = option('--sessions', 100);
const durationMs = option('--duration-ms', 10_000);

/** CPU µs per delivered message of `server` under the fixed load, over the window. */
async function cpuPerMessage(server: ServerChild): Promise<number> {
  let cpuAtStart = 0;
  let cpuInWindow = 0;
  const load = { sessions, mode: { kind: 'fixed-rate' as const, perSecond }, warmupMs: 1000, durationMs, connectionsPerRole: 2, messageBytes: 64 };
  const result = await runLoad(server.address, load, (edge) => (edge === 'start' ? (cpuAtStart = server.cpuSeconds()) : (cpuInWindow = server.cpuSeconds() - cpuAtStart)));
  if (result.lost + result.duplicated + result.reordered > 0) throw new Error(`faulty run: ${JSON.stringify(result)}`);
  return (cpuInWindow * 1e6) / result.delivered;
}

async function round(): Promise<{ off: number; on: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'support-bench-'));
  try {
    const off = await startServerChild(REAL_SERVER, realServerArgs(path.join(dir, 'off.db')), REAL_SERVER_ENV);
    const on = await startServerChild(REAL_SERVER, [...realServerArgs(path.join(dir, 'on.db')), '--metrics-port', '0'], REAL_SERVER_ENV);
    try {
      const [offCpu, onCpu] = await Promise.all([cpuPerMessage(off), cpuPerMessage(on)]);
      return { off: offCpu, on: onCpu };
    } finally {
      await Promise.all([off.stop(), on.stop()]);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

async function main(): Promise<void> {
  if (hasTaskset) execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' }); // the load generators on core 1
  console.log(`${sessions} sessions per server, ${perSecond} msg/s each way each (${2 * sessions * perSecond} msg/s per server), ${durationMs / 1000} s windows`);
  const ratios: number[] = [];
  for (let i = 1; i <= rounds; i++) {
    const { off, on } = await round();
    ratios.push(on / off);
    console.log(`round ${i}: metrics off ${off.toFixed(1)} µs/msg, on ${on.toFixed(1)} µs/msg, on/off ${(on / off).toFixed(3)}`);
  }
  console.log(`median on/off over ${rounds} rounds: ${median(ratios).toFixed(3)}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
