import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { encodedHistoryEntrySize } from '../src/transport/history-entry-size';
import type { Author } from '../src/domain/entry';
import { openDatabase } from '../src/storage/open-database';
import { SqliteSessionStore } from '../src/storage/sqlite-session-store';
import { runLoad, type LoadResult } from './load-generator';
import { REAL_SERVER, startServerChild } from './server-child';

const NORMAL_SESSIONS = 100;
const NORMAL_RATE = 10; // messages per second, each way, per session
const FULL_ENTRIES = 10_000; // the default --max-history-entries
const FULL_BYTES = 2 * 1024 * 1024; // the default --max-history-bytes

export type JoinStormResult = Readonly<{
  normal: LoadResult;
  joinsServed: number;
  bytesServed: number;
  joinsRefused: number;
  serverCpuPercent: number;
  peakRssMiB: number;
}>;

/**
 * The join storm: 100 sessions chatting at 10 msg/s each way, while 20 agents (each its
 * own user) join one full session (2 MiB, 10,000 entries) and leave it again, as fast as
 * --max-joins-per-minute lets them: what the normal sessions' latency and delivery become. The
 * server runs with its defaults. Without `withJoiners`, the same load alone, for comparison. The joiners run in a process of their own (storm-joiners.ts), so
 * that reading 2 MiB replies does not delay the load generator's own clock readings.
 */
export async function joinStorm(durationMs: number, withJoiners = true): Promise<JoinStormResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'support-bench-storm-'));
  const dbFile = path.join(dir, 'support.db');
  const sessionId = await writeFullSession(dbFile);
  const server = await startServerChild(REAL_SERVER, ['--port', '0', '--db', dbFile]);
  let joiners: Promise<JoinerCounts> | undefined;
  let stopJoiners = () => {};
  let cpuAtStart = 0;
  let cpuInWindow = 0;
  try {
    const normal = await runLoad(
      server.address,
      { sessions: NORMAL_SESSIONS, mode: { kind: 'fixed-rate', perSecond: NORMAL_RATE }, warmupMs: 1000, durationMs, connectionsPerRole: 2, messageBytes: 64 },
      (edge) => {
        if (edge === 'start') {
          cpuAtStart = server.cpuSeconds();
          if (withJoiners) ({ counts: joiners, stop: stopJoiners } = startJoiners(server.address, sessionId));
        } else {
          cpuInWindow = server.cpuSeconds() - cpuAtStart;
          stopJoiners();
        }
      },
    );
    const counts = (await joiners) ?? { served: 0, bytes: 0, refused: 0 };
    return {
      normal,
      joinsServed: counts.served,
      bytesServed: counts.bytes,
      joinsRefused: counts.refused,
      serverCpuPercent: (cpuInWindow * 100) / normal.seconds,
      peakRssMiB: server.rss().peakMiB,
    };
  } finally {
    stopJoiners();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A session as full as the defaults allow: 10,000 entries, just under 2 MiB encoded; returns its id. */
async function writeFullSession(dbFile: string): Promise<string> {
  const { db } = openDatabase({ file: dbFile, sync: 'normal' });
  const store = new SqliteSessionStore(db);
  const sessionId = 'join-storm-session';
  await store.createSession(sessionId, 'storm-customer', new Date(), 10);
  const author: Author = { kind: 'customer' };
  const limits = { maxBytes: FULL_BYTES, maxEntries: FULL_ENTRIES };
  const textLength = Math.floor(FULL_BYTES / FULL_ENTRIES) - 30; // an entry's fields take ~25 bytes beside its text
  for (let seq = 1; seq <= FULL_ENTRIES; seq += 1000) {
    const batch = Array.from({ length: 1000 }, (_, k) => {
      const text = `${seq + k} `.padEnd(textLength, 'x');
      return store.appendEntry(sessionId, { author, text, origin: 'bench', encodedSize: (date) => encodedHistoryEntrySize(date, author, text) }, new Date(), limits);
    });
    await Promise.all(batch);
  }
  store.close();
  return sessionId;
}

/** What the joiners' process reports when it stops. */
export type JoinerCounts = Readonly<{ served: number; bytes: number; refused: number }>;

/** Starts the joiners' process (storm-joiners.js); `stop` makes it report its counts and exit. */
function startJoiners(address: string, sessionId: string): { counts: Promise<JoinerCounts>; stop: () => void } {
  const child = spawn(process.execPath, [path.join(__dirname, 'storm-joiners.js'), address, sessionId], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const counts = new Promise<JoinerCounts>((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(output) as JoinerCounts) : reject(new Error(`the joiners exited with ${code}`)))),
  );
  return { counts, stop: () => child.stdin.end() };
}
