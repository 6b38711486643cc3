/**
 * `npm run bench:compare -- <server A> <server B> ... [--sessions 100] [--mode pipelined|ping-pong|fixed] [--rounds 3]`:
 * measures builds of the server (each a path to a built `main.js`, or `relay`; flags may follow
 * the path in the same argument, as in `"dist/src/main.js --metrics-port 0"`) in turns, A B A B
 * ..., and prints each one's median CPU per message. With `--two-instances <offered msg/s>`, each
 * build runs the two-instance PostgreSQL scenario at that load instead (bench/two-instances.ts),
 * and the medians are of p99 latency and of CPU per message of both instances and PostgreSQL. This machine's speed drifts by up to 2× within
 * an hour, so a change is judged only against its base measured in the same series, never against
 * a number from another run. BENCHMARKS.md's "what each change bought" comes from such series.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { LoadMode } from './load-generator';
import { measureServer, REAL_SERVER_ENV, realServerArgs, type Measurement } from './measure-server';
import { hasTaskset, RELAY_SERVER } from './server-child';
import { measureTwoInstances } from './two-instances';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
const optionNames = new Set(['--sessions', '--mode', '--rounds', '--two-instances']);
const servers = args.filter((a, i) => !optionNames.has(a) && !optionNames.has(args[i - 1]!));
const sessions = Number(option('--sessions', '100'));
const rounds = Number(option('--rounds', '3'));
const modes: Record<string, LoadMode> = {
  pipelined: { kind: 'pipelined', window: 32 },
  'ping-pong': { kind: 'ping-pong' },
  fixed: { kind: 'fixed-rate', perSecond: 100 },
};
const mode = modes[option('--mode', 'pipelined')];
const twoInstancesOffered = args.includes('--two-instances') ? Number(option('--two-instances', '')) : undefined;

function measure(server: string): Promise<Measurement> {
  const load = { sessions, mode: mode!, warmupMs: 1000, durationMs: 4000 };
  if (server === 'relay') return measureServer(RELAY_SERVER, () => ['0'], load);
  const [entry, ...flags] = server.split(' ').filter((part) => part !== '');
  return measureServer(path.resolve(entry!), (dir) => [...realServerArgs(path.join(dir, 'support.db')), ...flags], load, REAL_SERVER_ENV);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** The two-instance scenario, build against build: p99 latency and CPU per message. */
async function compareTwoInstances(offeredPerSecond: number): Promise<void> {
  const p99 = new Map<string, number[]>(servers.map((s) => [s, []]));
  const cpu = new Map<string, number[]>(servers.map((s) => [s, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const server of servers) {
      const row = await measureTwoInstances('compare', { offeredPerSecond, warmupMs: 2000, durationMs: 5000 }, path.resolve(server));
      const { result, cpuMicrosPerMessage: c } = row;
      p99.get(server)!.push(result.latencyMs.p99);
      cpu.get(server)!.push(c.a + c.b + c.postgres);
      const faults = `${result.lost}/${result.duplicated}/${result.reordered}`;
      console.log(
        `round ${round} ${server}: ${Math.round(result.delivered / result.seconds)} msg/s, p50 ${result.latencyMs.p50.toFixed(1)} ms, p99 ${result.latencyMs.p99.toFixed(1)} ms, ` +
          `CPU µs/msg A ${c.a.toFixed(1)} B ${c.b.toFixed(1)} PostgreSQL ${c.postgres.toFixed(1)}, other processes ${row.otherCores.toFixed(2)} cores, lost/dup/reord ${faults}`,
      );
    }
  }
  for (const server of servers) console.log(`${server}: median p99 ${median(p99.get(server)!).toFixed(1)} ms, median CPU ${median(cpu.get(server)!).toFixed(1)} µs/msg (A + B + PostgreSQL) over ${rounds} runs`);
}

async function main(): Promise<void> {
  if (servers.length === 0 || !mode || Number.isNaN(twoInstancesOffered)) {
    throw new Error('usage: compare-servers <dist/src/main.js | relay>... [--sessions N] [--mode pipelined|ping-pong|fixed] [--rounds N] [--two-instances <offered msg/s>]');
  }
  if (twoInstancesOffered !== undefined) return compareTwoInstances(twoInstancesOffered);
  if (hasTaskset) execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' }); // the load generator on core 1
  const cpu = new Map<string, number[]>(servers.map((s) => [s, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const server of servers) {
      const { result, cpuMicrosPerMessage, peakRssMiB } = await measure(server);
      cpu.get(server)!.push(cpuMicrosPerMessage);
      const faults = `${result.lost}/${result.duplicated}/${result.reordered}`;
      console.log(`round ${round} ${server}: ${Math.round(result.delivered / result.seconds)} msg/s, ${cpuMicrosPerMessage.toFixed(1)} µs/msg, p99 ${result.latencyMs.p99.toFixed(1)} ms, peak RSS ${peakRssMiB.toFixed(0)} MiB, lost/dup/reord ${faults}`);
    }
  }
  for (const [server, values] of cpu) console.log(`${server}: median ${median(values).toFixed(1)} µs/msg over ${values.length} runs`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
