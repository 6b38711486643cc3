/**
 * `npm run bench:retention [-- --rate 10 --sessions 100 --duration-ms 20000 --rounds 2]`: delivery
 * latency while retention deletes 1,000,000 entries (issue 15). A database is pre-filled with 1,000
 * sessions of 1,000 entries each, all ended ten days ago (cached in the temp folder). Runs of the
 * same live load on copies of it, in turns: the server without --retention-days (baseline), then
 * with --retention-days 1, whose first pass starts at start-up and deletes everything. The server's
 * own metrics say how many entries the pass deleted inside the measured window, and when it ended.
 * BENCHMARKS.md, "Retention's cost".
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../src/storage/open-database';
import { runLoad, type LoadResult } from './load-generator';
import { realServerArgs, REAL_SERVER_ENV } from './measure-server';
import { hasTaskset, REAL_SERVER, startServerChild } from './server-child';

const SESSIONS = 1_000;
const ENTRIES_PER_SESSION = 1_000;
const PREFILLED = path.join(os.tmpdir(), 'support-bench-retention-v1.db');

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const perSecond = option('--rate', 20);
const liveSessions = option('--sessions', 100);
const durationMs = option('--duration-ms', 20_000);
const rounds = option('--rounds', 2);

type Run = Readonly<{
  result: LoadResult;
  cpuMicrosPerMessage: number;
  /** Entries the pass deleted inside the measured window. */
  deletedInWindow: number;
  /** From the server's start to the end of the pass (undefined without retention). */
  passMs: number | undefined;
}>;

/** A port free now (the metrics port of the next server). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function deletedEntries(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return Number(/^support_retention_deleted_entries_total (\S+)$/m.exec(text)?.[1] ?? NaN);
}

/** One run on a fresh copy of the pre-filled database; `flags` are added to the server's. */
async function run(flags: string[]): Promise<Run> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'support-bench-'));
  const db = path.join(dir, 'support.db');
  fs.copyFileSync(PREFILLED, db);
  const metricsPort = await freePort();
  const started = performance.now();
  const child = await startServerChild(REAL_SERVER, [...realServerArgs(db), '--metrics-port', String(metricsPort), ...flags], REAL_SERVER_ENV);
  let passEndedAt: number | undefined;
  child.child.stdout!.on('data', (chunk: Buffer) => {
    if (passEndedAt === undefined && chunk.toString('utf8').includes('retention deleted ended sessions')) passEndedAt = performance.now();
  });
  let deletedAtStart: Promise<number> = Promise.resolve(0);
  let deletedAtEnd: Promise<number> = Promise.resolve(0);
  let cpuAtStart = 0;
  let cpuInWindow = 0;
  try {
    const load = { sessions: liveSessions, mode: { kind: 'fixed-rate' as const, perSecond }, warmupMs: 500, durationMs, connectionsPerRole: 2, messageBytes: 64 };
    const result = await runLoad(child.address, load, (edge) => {
      if (edge === 'start') {
        cpuAtStart = child.cpuSeconds();
        deletedAtStart = deletedEntries(metricsPort);
      } else {
        cpuInWindow = child.cpuSeconds() - cpuAtStart;
        deletedAtEnd = deletedEntries(metricsPort);
      }
    });
    const deletedInWindow = (await deletedAtEnd) - (await deletedAtStart);
    if (flags.length > 0) {
      const deadline = performance.now() + 600_000;
      while (passEndedAt === undefined && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { result, cpuMicrosPerMessage: (cpuInWindow * 1e6) / result.delivered, deletedInWindow, passMs: passEndedAt === undefined ? undefined : passEndedAt - started };
  } finally {
    await child.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** 1,000 sessions, ended ten days ago, of 1,000 entries each, written straight to SQLite. */
function prefill(): void {
  if (fs.existsSync(PREFILLED)) return;
  console.log(`pre-filling ${PREFILLED} (once; cached for later runs)...`);
  const partial = `${PREFILLED}.partial`;
  fs.rmSync(partial, { force: true });
  const { db } = openDatabase({ file: partial, sync: 'normal' });
  const insertSession = db.prepare(
    "INSERT INTO sessions (pk, id, customer, state, created_at, ended_at, last_seq, last_entry_at, history_bytes, last_activity_at) VALUES (?, ?, ?, 'ended', ?, ?, ?, ?, ?, ?)",
  );
  const insertEntry = db.prepare('INSERT INTO entries (session_pk, seq, date_ms, agent, text) VALUES (?, ?, ?, ?, ?)');
  const t0 = Date.now() - 10 * 86_400_000;
  const fill = db.transaction((pk: number) => {
    const last = t0 + ENTRIES_PER_SESSION;
    insertSession.run(pk, `old-${pk}`, `old-customer-${pk}`, t0, last, ENTRIES_PER_SESSION, last, ENTRIES_PER_SESSION * 60, last);
    for (let seq = 1; seq <= ENTRIES_PER_SESSION; seq++) insertEntry.run(pk, seq, t0 + seq, seq % 2 ? null : 'agent-old', `message number ${seq} of a session long over`);
  });
  for (let pk = 1; pk <= SESSIONS; pk++) fill(pk);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  fs.renameSync(partial, PREFILLED);
}

function describe(name: string, r: Run): string {
  const { latencyMs, delivered, seconds, lost, duplicated, reordered } = r.result;
  const pass = `${r.deletedInWindow} entries deleted in the window; the whole pass took ${r.passMs === undefined ? '(did not end)' : `${(r.passMs / 1000).toFixed(1)} s`}`;
  return (
    `${name}: ${Math.round(delivered / seconds)} msg/s, p50 ${latencyMs.p50.toFixed(2)} ms, p99 ${latencyMs.p99.toFixed(2)} ms, max ${latencyMs.max.toFixed(1)} ms, ` +
    `CPU ${r.cpuMicrosPerMessage.toFixed(1)} µs/msg, lost/dup/reord ${lost}/${duplicated}/${reordered}` + (name.includes('retention deleting') ? `; ${pass}` : '')
  );
}

async function main(): Promise<void> {
  if (hasTaskset) execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' }); // the load generator on core 1
  prefill();
  console.log(`live load: ${liveSessions} sessions, ${perSecond} msg/s each way each (${2 * liveSessions * perSecond} msg/s), ${durationMs / 1000} s window`);
  for (let round = 1; round <= rounds; round++) {
    console.log(describe(`round ${round} baseline (no retention)`, await run([])));
    console.log(describe(`round ${round} retention deleting 1,000,000 entries`, await run(['--retention-days', '1'])));
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
