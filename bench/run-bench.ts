/**
 * `npm run bench`: measures the real server against the bare relay on the same scenarios, prints
 * a table and writes bench/results/latest.json; then two instances on PostgreSQL at fixed loads
 * (skipped, with one line, where no PostgreSQL answers). `--quick` runs a few-second smoke version
 * (SQLite only); `--only <scenario prefix>` runs a subset (`--only pg`: the PostgreSQL ones). See BENCHMARKS.md.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LoadMode, LoadResult } from './load-generator';
import { measureServer, REAL_SERVER_ENV, realServerArgs } from './measure-server';
import { hasTaskset, RELAY_SERVER, REAL_SERVER } from './server-child';
import { extraScenarios, type ExtraResult } from './extra-scenarios';
import { BENCH_POSTGRES_URL, measureTwoInstances, postgresMissing, type TwoInstancesRow } from './two-instances';

export type ThroughputRow = Readonly<{
  scenario: string;
  server: 'real' | 'relay';
  result: LoadResult;
  cpuMicrosPerMessage: number;
  peakRssMiB: number;
}>;

type Scenario = Readonly<{ name: string; sessions: number; mode: LoadMode; realArgs?: string[]; relay: boolean }>;

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
/** `--metrics`: the real server runs with Prometheus metrics on (BENCHMARKS.md, "Metrics' cost"). */
const metricsFlags = args.includes('--metrics') ? ['--metrics-port', '0'] : [];
const durationMs = quick ? 1000 : 5000;
const warmupMs = quick ? 300 : 1000;

const scenarios: Scenario[] = quick
  ? [
      { name: 'S=2 ping-pong', sessions: 2, mode: { kind: 'ping-pong' }, relay: true },
      { name: 'S=2 pipelined', sessions: 2, mode: { kind: 'pipelined', window: 32 }, relay: true },
    ]
  : [
      ...[1, 100, 1000].flatMap((sessions): Scenario[] => [
        { name: `S=${sessions} ping-pong`, sessions, mode: { kind: 'ping-pong' }, relay: true },
        { name: `S=${sessions} pipelined`, sessions, mode: { kind: 'pipelined', window: 32 }, relay: true },
      ]),
      { name: 'S=100 fixed 20k msg/s', sessions: 100, mode: { kind: 'fixed-rate', perSecond: 100 }, relay: true },
      { name: 'S=100 pipelined, sqlite-sync full', sessions: 100, mode: { kind: 'pipelined', window: 32 }, realArgs: ['--sqlite-sync', 'full'], relay: false },
    ];

/** Two instances on PostgreSQL (BENCHMARKS.md, "Two instances on PostgreSQL"): offered loads, in messages per second in all. */
const twoInstanceScenarios = quick ? [] : [2000, 5000, 8000].map((offered) => ({ name: `pg 2 instances, fixed ${offered / 1000}k msg/s`, offered }));

async function measure(scenario: Scenario, server: 'real' | 'relay', extraArgs: string[] = [], dbFile?: string): Promise<ThroughputRow> {
  const load = { sessions: scenario.sessions, mode: scenario.mode, warmupMs, durationMs };
  const measured =
    server === 'relay'
      ? await measureServer(RELAY_SERVER, () => ['0'], load)
      : await measureServer(REAL_SERVER, (dir) => [...realServerArgs(dbFile ?? path.join(dir, 'support.db')), ...(scenario.realArgs ?? []), ...extraArgs, ...metricsFlags], load, REAL_SERVER_ENV);
  return { scenario: scenario.name, server, ...measured };
}

function printThroughput(rows: ThroughputRow[]): void {
  const header = ['scenario', 'server', 'msg/s', 'p50 ms', 'p99 ms', 'max ms', 'CPU µs/msg', 'peak RSS MiB', 'lost/dup/reord', 'CPU vs relay', 'msg/s vs relay'];
  const lines = rows.map((row) => {
    const relay = rows.find((r) => r.scenario === row.scenario && r.server === 'relay');
    const ratio = (a: number, b: number | undefined) => (b && row.server === 'real' ? (a / b).toFixed(2) + '×' : '');
    const { result } = row;
    return [
      row.scenario,
      row.server,
      Math.round(result.delivered / result.seconds).toString(),
      result.latencyMs.p50.toFixed(2),
      result.latencyMs.p99.toFixed(2),
      result.latencyMs.max.toFixed(1),
      row.cpuMicrosPerMessage.toFixed(1),
      row.peakRssMiB.toFixed(0),
      `${result.lost}/${result.duplicated}/${result.reordered}`,
      ratio(row.cpuMicrosPerMessage, relay?.cpuMicrosPerMessage),
      ratio(result.delivered / result.seconds, relay && relay.result.delivered / relay.result.seconds),
    ];
  });
  printTable(header, lines);
}

function printTwoInstances(rows: TwoInstancesRow[]): void {
  const header = ['scenario', 'offered msg/s', 'msg/s', 'p50 ms', 'p99 ms', 'max ms', 'CPU µs/msg A', 'B', 'PostgreSQL', 'all', 'lost/dup/reord'];
  const lines = rows.map(({ scenario, offeredPerSecond, result, cpuMicrosPerMessage: cpu }) => [
    scenario,
    String(offeredPerSecond),
    Math.round(result.delivered / result.seconds).toString(),
    result.latencyMs.p50.toFixed(2),
    result.latencyMs.p99.toFixed(2),
    result.latencyMs.max.toFixed(1),
    cpu.a.toFixed(1),
    cpu.b.toFixed(1),
    cpu.postgres.toFixed(1),
    (cpu.a + cpu.b + cpu.postgres).toFixed(1),
    `${result.lost}/${result.duplicated}/${result.reordered}`,
  ]);
  printTable(header, lines);
  console.log(`cores kept busy by other processes meanwhile: ${rows.map((r) => r.otherCores.toFixed(2)).join(', ')}`);
}

/** The two-instance scenarios that `only` selects, or none (with one line saying why) when PostgreSQL does not answer. */
async function runTwoInstances(): Promise<TwoInstancesRow[]> {
  const selected = twoInstanceScenarios.filter((s) => !only || s.name.startsWith(only));
  if (selected.length === 0) return [];
  const missing = await postgresMissing();
  if (missing) {
    console.log(`the two-instance scenarios were not run: no PostgreSQL answers at ${BENCH_POSTGRES_URL} (${missing}); set SUPPORT_BENCH_POSTGRES_URL`);
    return [];
  }
  const rows: TwoInstancesRow[] = [];
  for (const scenario of selected) {
    // A longer warm-up: the backlog of the instances' first second (cold code, first statements planned) drains meanwhile.
    rows.push(await measureTwoInstances(scenario.name, { offeredPerSecond: scenario.offered, warmupMs: 2 * warmupMs, durationMs }));
    console.log(`done: ${scenario.name}`);
  }
  printTwoInstances(rows);
  return rows;
}

export function printTable(header: string[], lines: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  console.log(format(header));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  lines.forEach((l) => console.log(format(l)));
}

async function main(): Promise<void> {
  if (hasTaskset) execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' }); // the load generator on core 1
  const machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, pinned: hasTaskset };
  console.log(`machine: ${JSON.stringify(machine)}; ${durationMs} ms per run after ${warmupMs} ms warm-up`);
  const rows: ThroughputRow[] = [];
  for (const scenario of scenarios.filter((s) => !only || s.name.startsWith(only))) {
    if (scenario.relay) rows.push(await measure(scenario, 'relay'));
    rows.push(await measure(scenario, 'real'));
    console.log(`done: ${scenario.name}`);
  }
  if (rows.length > 0) printThroughput(rows);
  const twoInstances = await runTwoInstances();
  const extras: ExtraResult[] = quick || (only && !'extra'.startsWith(only)) ? [] : await extraScenarios((scenario, dbFile) => measure(scenario, 'real', [], dbFile));
  const results = { date: new Date().toISOString(), machine, durationMs, warmupMs, rows, twoInstances, extras };
  // Only a full run replaces latest.json (the run BENCHMARKS.md reports).
  const out = path.resolve(__dirname, '..', '..', 'bench', 'results', quick ? 'quick.json' : only ? 'partial.json' : 'latest.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  console.log(`results written to ${path.relative(process.cwd(), out)}`);
  const faulty = (result: LoadResult) => result.lost + result.duplicated + result.reordered > 0;
  const faults = [...rows.filter((r) => faulty(r.result)).map((r) => `${r.scenario} (${r.server})`), ...twoInstances.filter((r) => faulty(r.result)).map((r) => r.scenario)];
  if (faults.length > 0) {
    console.error(`LOSS, DUPLICATION OR REORDERING in: ${faults.join(', ')}`);
    process.exitCode = 1;
  }
}

void main();
