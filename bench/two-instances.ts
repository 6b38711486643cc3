import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { connectionConfig, quoteIdentifier, whyUnreachable } from '../src/storage/postgres/postgres-connection';
import { runLoad, type LoadResult } from './load-generator';
import { REAL_SERVER_ENV } from './measure-server';
import { PostgresCpu } from './postgres-cpu';
import { hasTaskset, REAL_SERVER, startServerChild, type ServerChild } from './server-child';

/** The PostgreSQL server of the two-instance scenarios (the one the test suites use by default). */
export const BENCH_POSTGRES_URL = process.env.SUPPORT_BENCH_POSTGRES_URL ?? 'postgres://127.0.0.1:5432/test';
/** The instances' connections carry this name, so that their backends' CPU can be told from other clients'. */
const APPLICATION_NAME = 'support-bench';
const SESSIONS = 100;
const CLOCK_TICKS = 100; // USER_HZ on Linux
const ALL_CORES = `0-${os.cpus().length - 1}`;

export type TwoInstancesLoad = Readonly<{ offeredPerSecond: number; warmupMs: number; durationMs: number }>;

export type TwoInstancesRow = Readonly<{
  scenario: string;
  offeredPerSecond: number;
  result: LoadResult;
  /**
   * CPU µs per delivered message of instance A (the customers'), B (the agents'), PostgreSQL (A's
   * and B's backends, and the server's own processes: `postgresServer` of it).
   */
  cpuMicrosPerMessage: Readonly<{ a: number; b: number; postgres: number; postgresServer: number }>;
  peakRssMiB: Readonly<{ a: number; b: number }>;
  /**
   * Cores that the machine's other processes (other users' work, other clients' PostgreSQL backends
   * included) kept busy in the window, on average: the run shared the two cores with that much.
   */
  otherCores: number;
}>;

/** Whether the scenarios' PostgreSQL answers; why not, otherwise. */
export function postgresMissing(): Promise<string | undefined> {
  return whyUnreachable(BENCH_POSTGRES_URL);
}

/**
 * Two instances of `entry` (a built main.js) on one fresh schema of BENCH_POSTGRES_URL (created
 * first, dropped after), 100 sessions with their customers connected to instance A and their
 * agents to instance B, every entry crossing the instances through PostgreSQL (LISTEN/NOTIFY), at a
 * fixed offered load (`offeredPerSecond` messages in all, half each way). Nothing is pinned: the
 * two instances, PostgreSQL and the load generator share both cores as the scheduler sees fit.
 */
export async function measureTwoInstances(scenario: string, load: TwoInstancesLoad, entry = REAL_SERVER): Promise<TwoInstancesRow> {
  const schema = `support_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client(connectionConfig({ url: BENCH_POSTGRES_URL, schema: 'public' }));
  await admin.connect();
  const restoreAffinity = floatOnAllCores();
  const instances: ServerChild[] = [];
  try {
    await admin.query(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
    const url = new URL(BENCH_POSTGRES_URL);
    url.searchParams.set('application_name', APPLICATION_NAME);
    const args = ['--port', '0', '--store', url.toString(), '--pg-schema', schema, '--max-history-bytes', String(2 ** 40), '--max-messages-per-second', '0'];
    // One after the other: the second finds the schema migrated (started together, they would wait on its lock).
    for (let i = 0; i < 2; i++) instances.push(await startServerChild(entry, args, REAL_SERVER_ENV, ALL_CORES));
    const [a, b] = instances as [ServerChild, ServerChild];
    const postgresCpu = new PostgresCpu(admin, APPLICATION_NAME);
    let cpuAtStart = [0, 0, 0, 0];
    let cpuInWindow = [0, 0, 0, 0];
    const perSecond = load.offeredPerSecond / (2 * SESSIONS); // each direction of each session
    const result = await runLoad(
      { customers: a.address, agents: b.address },
      { sessions: SESSIONS, mode: { kind: 'fixed-rate', perSecond }, warmupMs: load.warmupMs, durationMs: load.durationMs, connectionsPerRole: 2, messageBytes: 64 },
      (edge) => {
        const cpu = [a.cpuSeconds(), b.cpuSeconds(), ownCpuSeconds(), machineBusySeconds()];
        if (edge === 'start') {
          cpuAtStart = cpu;
          postgresCpu.start();
        } else {
          postgresCpu.end();
          cpuInWindow = cpu.map((seconds, i) => seconds - cpuAtStart[i]!);
        }
      },
    );
    const postgres = await postgresCpu.seconds();
    const perMessage = (seconds: number) => (result.delivered > 0 ? (seconds * 1e6) / result.delivered : Infinity);
    return {
      scenario,
      offeredPerSecond: load.offeredPerSecond,
      result,
      cpuMicrosPerMessage: { a: perMessage(cpuInWindow[0]!), b: perMessage(cpuInWindow[1]!), postgres: perMessage(postgres.ours + postgres.server), postgresServer: perMessage(postgres.server) },
      peakRssMiB: { a: a.rss().peakMiB, b: b.rss().peakMiB },
      otherCores: Math.max(0, cpuInWindow[3]! - cpuInWindow[0]! - cpuInWindow[1]! - cpuInWindow[2]! - postgres.ours - postgres.server) / result.seconds,
    };
  } finally {
    await Promise.all(instances.map((i) => i.stop()));
    await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`).catch((error: unknown) => console.error(`bench: could not drop schema ${schema}: ${String(error)}`));
    await admin.end();
    restoreAffinity();
  }
}

/** CPU seconds of this process (the load generator). */
function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** CPU seconds that all the machine's cores have spent busy (not idle nor waiting for I/O) since boot, from /proc/stat. */
function machineBusySeconds(): number {
  const [user, nice, system, , , irq, softirq] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq!) / CLOCK_TICKS;
}

/**
 * Lets this process (the load generator) run on every core for the scenario, and returns what
 * restores its affinity. Four parties share the two cores here, PostgreSQL's processes among them
 * (not ours to pin): any fixed split would starve one of them at some load.
 */
function floatOnAllCores(): () => void {
  if (!hasTaskset) return () => {};
  const before = /list:\s*(\S+)/.exec(execFileSync('taskset', ['-cp', String(process.pid)], { encoding: 'utf8' }))?.[1];
  execFileSync('taskset', ['-acp', ALL_CORES, String(process.pid)], { stdio: 'ignore' });
  return () => {
    if (before) execFileSync('taskset', ['-acp', before, String(process.pid)], { stdio: 'ignore' });
  };
}
