/**
 * `npm run bench:retention [-- --rate 20 --sessions 100]`: delivery latency while retention
 * deletes 1,000,000 entries (issue 15). A database is pre-filled with 1,000 sessions of 1,000
 * entries each, all ended ten days ago (cached in the temp folder). Two runs of the same live
 * load on copies of it: the server without --retention-days (baseline), then with
 * --retention-days 1, whose first pass starts at start-up and deletes everything. The report says
 * when the pass ended, relative to the measured window, so that the window is known to fall
 * inside it. BENCHMARKS.md, "Retention's cost".
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
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
const durationMs = option('--duration-ms', 15_000);

type Run = Readonly<{ result: LoadResult; cpuMicrosPerMessage: number; passEndedMs: number | undefined; deleted: string | undefined }>;

/** One run on a fresh copy of the pre-filled database; `flags` are added to the server's. */
async function run(flags: string[]): Promise<Run> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'support-bench-'));
  const db = path.join(dir, 'support.db');
  fs.copyFileSync(PREFILLED, db);
  const child = await startServerChild(REAL_SERVER, [...realServerArgs(db), ...flags], REAL_SERVER_ENV);
  let windowStart = 0;
  let passEndedAt: number | undefined;
  let deleted: string | undefined;
  child.child.stdout!.on('data', (chunk: Buffer) => {
    const line = chunk.toString('utf8').split('\n').find((l) => l.includes('retention deleted ended sessions'));
    if (line && passEndedAt === undefined) {
      passEndedAt = performance.now();
      const record = JSON.parse(line) as { sessions: number; entries: number };
      deleted = `${record.sessions} sessions, ${record.entries} entries`;
    }
  });
  let cpuAtStart = 0;
  let cpuInWindow = 0;
  try {
    const load = { sessions: liveSessions, mode: { kind: 'fixed-rate' as const, perSecond }, warmupMs: 500, durationMs, connectionsPerRole: 2, messageBytes: 64 };
    const result = await runLoad(child.address, load, (edge) => {
      if (edge === 'start') {
        windowStart = performance.now();
        cpuAtStart = child.cpuSeconds();
      } else {
        cpuInWindow = child.cpuSeconds() - cpuAtStart;
      }
    });
    return { result, cpuMicrosPerMessage: (cpuInWindow * 1e6) / result.delivered, passEndedMs: passEndedAt === undefined ? undefined : passEndedAt - windowStart, deleted };
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
  const pass = r.passEndedMs === undefined ? 'the pass had not ended when the server stopped' : `the pass (${r.deleted}) ended ${(r.passEndedMs / 1000).toFixed(1)} s after the window opened`;
  return (
    `${name}: ${Math.round(delivered / seconds)} msg/s, p50 ${latencyMs.p50.toFixed(2)} ms, p99 ${latencyMs.p99.toFixed(2)} ms, max ${latencyMs.max.toFixed(1)} ms, ` +
    `CPU ${r.cpuMicrosPerMessage.toFixed(1)} µs/msg, lost/dup/reord ${lost}/${duplicated}/${reordered}` + (name.startsWith('retention') ? `; ${pass}` : '')
  );
}

async function main(): Promise<void> {
  if (hasTaskset) execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' }); // the load generator on core 1
  prefill();
  console.log(`live load: ${liveSessions} sessions, ${perSecond} msg/s each way each (${2 * liveSessions * perSecond} msg/s), ${durationMs / 1000} s window`);
  const baseline = await run([]);
  console.log(describe('baseline (no retention)', baseline));
  const deleting = await run(['--retention-days', '1']);
  console.log(describe('retention deleting 1,000,000 entries', deleting));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
