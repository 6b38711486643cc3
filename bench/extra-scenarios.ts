import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SupportClient, type ChatCustomerResponse } from '../gen/support';
import { openDatabase } from '../src/storage/open-database';
import { foldEntryLog } from '../src/storage/sqlite/entry-log-fold';
import { joinStorm, type JoinStormResult } from './join-storm';
import type { ThroughputRow } from './run-bench';
import { REAL_SERVER, startServerChild } from './server-child';

export type ExtraResult = Readonly<{ scenario: string; value: string; detail?: unknown }>;
type Measure = (scenario: { name: string; sessions: number; mode: { kind: 'pipelined'; window: number }; relay: boolean }, dbFile?: string) => Promise<ThroughputRow>;

const GROWTH_SESSIONS = 100_000;
const GROWTH_ENTRIES_PER_SESSION = 50; // 5,000,000 entries
/** The restart scenario's tail of unfolded entries: 100,000. */
const CRASH_TAIL_SESSIONS = 1000;
const CRASH_TAIL_PER_SESSION = 100;
// v2: the log layout of migrations/sqlite/002_entry_log.sql, folded.
const GROWTH_CACHE = path.join(os.tmpdir(), 'support-bench-growth-v2.db');

/** Growth, restart, resume and capacity (see BENCHMARKS.md). */
export async function extraScenarios(measure: Measure): Promise<ExtraResult[]> {
  const results: ExtraResult[] = [];
  const bigDb = copyOfGrowthDb();
  const scenario = { name: 'S=100 pipelined', sessions: 100, mode: { kind: 'pipelined' as const, window: 32 }, relay: false };
  const empty = await measure(scenario);
  const big = await measure({ ...scenario, name: 'S=100 pipelined, 5M-entry db' }, bigDb);
  results.push({
    scenario: 'growth: CPU per message, 5M-entry db vs empty',
    value: `${big.cpuMicrosPerMessage.toFixed(1)} vs ${empty.cpuMicrosPerMessage.toFixed(1)} µs/msg (${(big.cpuMicrosPerMessage / empty.cpuMicrosPerMessage).toFixed(2)}×)`,
    detail: { empty, big },
  });
  appendCrashTail(bigDb);
  const restart = await startServerChild(REAL_SERVER, ['--port', '0', '--db', bigDb]);
  results.push({ scenario: `restart: process start to listening, 5M-entry db with a crash's unfolded tail of ${CRASH_TAIL_SESSIONS * CRASH_TAIL_PER_SESSION} entries`, value: `${restart.startupMs.toFixed(0)} ms` });
  await restart.stop();
  fs.rmSync(bigDb, { force: true });
  results.push(await resumeLatency());
  results.push(await idleCapacity(10_000));
  results.push(...(await joinStormResults()));
  for (const r of results) console.log(`${r.scenario}: ${r.value}`);
  return results;
}

/**
 * The join storm over 30 s (the joiners' first minute allows a burst of 120 joins each, spent in
 * about 20 s; then 2 a second each), and the same load without it over 10 s.
 */
async function joinStormResults(): Promise<ExtraResult[]> {
  const describe = (storm: JoinStormResult) => {
    const { latencyMs, lost, duplicated, reordered, delivered, seconds } = storm.normal;
    return (
      `normal sessions ${Math.round(delivered / seconds)} msg/s, p50 ${latencyMs.p50.toFixed(1)} ms, p99 ${latencyMs.p99.toFixed(1)} ms, max ${latencyMs.max.toFixed(1)} ms, ` +
      `lost/dup/reord ${lost}/${duplicated}/${reordered}; ${storm.joinsServed} joins served (${(storm.bytesServed / 2 ** 20).toFixed(0)} MiB), ${storm.joinsRefused} refused; ` +
      `server CPU ${storm.serverCpuPercent.toFixed(0)}%, peak RSS ${storm.peakRssMiB.toFixed(0)} MiB`
    );
  };
  const calm = await joinStorm(10_000, false);
  const storm = await joinStorm(30_000);
  return [
    { scenario: 'join storm baseline: 100 sessions at 10 msg/s each way, nobody joining', value: describe(calm), detail: calm },
    { scenario: 'join storm: the same, while 20 agents join a full session (2 MiB, 10,000 entries) as fast as allowed', value: describe(storm), detail: storm },
  ];
}

function copyOfGrowthDb(): string {
  if (!fs.existsSync(GROWTH_CACHE)) prefill(GROWTH_CACHE);
  const copy = path.join(os.tmpdir(), `support-bench-growth-${process.pid}.db`);
  fs.copyFileSync(GROWTH_CACHE, copy);
  return copy;
}

/** 100,000 sessions (nine in ten ended) with 50 entries each, written straight to SQLite. */
function prefill(file: string): void {
  console.log(`pre-filling ${file} (once; cached for later runs)...`);
  const partial = `${file}.partial`;
  fs.rmSync(partial, { force: true });
  const { db } = openDatabase({ file: partial, sync: 'normal' });
  const insertSession = db.prepare(
    "INSERT INTO sessions (pk, id, customer, state, created_at, ended_at, awaiting_since, last_seq, last_entry_at, history_bytes, last_activity_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const insertEntry = db.prepare('INSERT INTO entries (session_pk, seq, date_ms, agent, text) VALUES (?, ?, ?, ?, ?)');
  const t0 = Date.now() - 30 * 86_400_000;
  const batch = db.transaction((from: number, to: number) => {
    for (let pk = from; pk < to; pk++) {
      const open = pk % 10 === 0;
      const created = t0 + pk * 1000;
      const last = created + GROWTH_ENTRIES_PER_SESSION * 1000;
      insertSession.run(pk, `prefill-${pk}`, `prefill-customer-${pk}`, open ? 'open' : 'ended', created, open ? null : last, open ? last : null, GROWTH_ENTRIES_PER_SESSION, last, GROWTH_ENTRIES_PER_SESSION * 60, last);
      for (let seq = 1; seq <= GROWTH_ENTRIES_PER_SESSION; seq++) {
        insertEntry.run(pk, seq, created + seq * 1000, seq % 2 ? null : 'agent-prefill', `message number ${seq} of a session that came before the benchmark`);
      }
    }
  });
  for (let from = 1; from <= GROWTH_SESSIONS; from += 2000) batch(from, Math.min(from + 2000, GROWTH_SESSIONS + 1));
  // Indexed now, as a server that ran for months would have it, not at the benchmark's start-up.
  // The session rows already count these entries (encoded_bytes is NULL: the fold adds nothing).
  foldEntryLog(db);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  fs.renameSync(partial, file);
}

/**
 * Entries committed but not folded, as a kill -9 leaves them (see migrations/sqlite/002_entry_log.sql):
 * written to the log alone, so that the server's start-up has to index and count them.
 */
function appendCrashTail(file: string): void {
  const { db } = openDatabase({ file, sync: 'normal' });
  const insert = db.prepare('INSERT INTO entries (session_pk, seq, date_ms, agent, text, encoded_bytes) VALUES (?, ?, ?, NULL, ?, 60)');
  const t0 = Date.now();
  db.transaction(() => {
    for (let k = 1; k <= CRASH_TAIL_PER_SESSION; k++) {
      // The open sessions of the pre-fill (every tenth), interleaved as live traffic writes them.
      for (let i = 0; i < CRASH_TAIL_SESSIONS; i++) insert.run(i * 10 + 10, GROWTH_ENTRIES_PER_SESSION + k, t0 + k, `a message the crash left unfolded, number ${k}`);
    }
  })();
  db.close();
}

function client(address: string, i = 0): SupportClient {
  return new SupportClient(address, grpc.credentials.createInsecure(), { 'bench.connection': i, 'grpc.use_local_subchannel_pool': 1 });
}

function metadataFor(user: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `token ${user}`);
  return metadata;
}

function nextResponse<Q>(call: grpc.ClientDuplexStream<Q, ChatCustomerResponse>): Promise<ChatCustomerResponse> {
  return new Promise((resolve, reject) => {
    call.once('data', resolve);
    call.once('status', (s: grpc.StatusObject) => reject(new Error(s.details)));
  });
}

/** Time from init{resume} to the session reply, for a session with 1,000 entries. */
async function resumeLatency(): Promise<ExtraResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'support-bench-'));
  const server = await startServerChild(REAL_SERVER, ['--port', '0', '--db', path.join(dir, 'support.db'), '--max-messages-per-second', '0']);
  const c = client(server.address);
  const first = c.chatCustomer(metadataFor('resume-customer'));
  first.on('error', () => {});
  first.write({ req: { $case: 'init', value: { resumeSessionId: '' } } });
  const session = await nextResponse(first);
  const sessionId = session.resp?.$case === 'session' ? session.resp.value.sessionId : '';
  for (let i = 0; i < 1000; i++) first.write({ req: { $case: 'msg', value: `message ${i} of a long conversation, about as long as a real one` } });
  first.end();
  await new Promise((resolve) => first.once('status', resolve));
  const timings: number[] = [];
  for (let i = 0; i < 30; i++) {
    const call = c.chatCustomer(metadataFor('resume-customer'));
    call.on('error', () => {}); // cancelled below, once timed
    const started = performance.now();
    call.write({ req: { $case: 'init', value: { resumeSessionId: sessionId } } });
    const reply = await nextResponse(call);
    timings.push(performance.now() - started);
    if (reply.resp?.$case !== 'session' || reply.resp.value.history.length !== 1000) throw new Error('resume returned the wrong history');
    call.cancel();
  }
  c.close();
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  timings.sort((a, b) => a - b);
  return { scenario: 'resume: init{resume} to session reply, 1,000 entries', value: `median ${timings[15]!.toFixed(1)} ms, max ${timings[29]!.toFixed(1)} ms` };
}

/** Memory for `sessions` idle sessions, each with its customer and one agent attached. */
async function idleCapacity(sessions: number): Promise<ExtraResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'support-bench-'));
  const server = await startServerChild(REAL_SERVER, ['--port', '0', '--db', path.join(dir, 'support.db'), '--max-streams-per-connection', '1000']);
  const before = server.rss().nowMiB;
  const clients = Array.from({ length: Math.ceil((2 * sessions) / 900) }, (_, i) => client(server.address, i));
  const calls: { cancel(): void }[] = [];
  for (let i = 0; i < sessions; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, sessions - i) }, async (_, k) => {
        const n = i + k;
        const customer = clients[(2 * n) % clients.length]!.chatCustomer(metadataFor(`idle-${n}`));
        customer.on('error', () => {});
        customer.write({ req: { $case: 'init', value: { resumeSessionId: '' } } });
        const reply = await nextResponse(customer);
        const sessionId = reply.resp?.$case === 'session' ? reply.resp.value.sessionId : '';
        const agent = clients[(2 * n + 1) % clients.length]!.chatAgent(metadataFor(`agent-idle-${n}`));
        agent.on('error', () => {});
        agent.write({ req: { $case: 'accept', value: { sessionId } } });
        await new Promise((resolve) => agent.once('data', resolve));
        calls.push(customer, agent);
      }),
    );
  }
  global.gc?.();
  const held = server.rss();
  calls.forEach((call) => call.cancel());
  clients.forEach((c) => c.close());
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  const perSessionKiB = ((held.nowMiB - before) * 1024) / sessions;
  return {
    scenario: `capacity: ${sessions.toLocaleString('en')} idle sessions (${(2 * sessions).toLocaleString('en')} streams)`,
    value: `RSS ${held.nowMiB.toFixed(0)} MiB (peak ${held.peakMiB.toFixed(0)}), ${perSessionKiB.toFixed(1)} KiB per session`,
  };
}
