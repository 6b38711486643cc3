/**
 * `node dist/bench/storage-floor.js`: the CPU cost of committing one entry through the real store
 * (SqliteSessionStore and its group commit, on a temp file), with no gRPC around it, for batches
 * holding 1, 2, 8 and 32 entries per session across 100 sessions. It shows the floor that SQLite
 * sets under the server's CPU per message, and how it falls as more entries of one session share
 * a commit. With `--fold-sweep` it then measures, at 1 entry per session per commit, how the
 * interval between folds of the entry log (src/storage/sqlite/fold-schedule.ts) sets the cost
 * per entry, and what a 50-entry history page read costs at the end (with the tail then unfolded).
 * See BENCHMARKS.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodedHistoryEntrySize } from '../src/transport/history-entry-size';
import type { Author } from '../src/domain/entry';
import { openDatabase } from '../src/storage/open-database';
import { SqliteSessionStore } from '../src/storage/sqlite-session-store';
import { DEFAULT_FOLD_POLICY, type FoldPolicy } from '../src/storage/sqlite/fold-schedule';

const SESSIONS = 100;
const ENTRIES = 200_000;
const customer: Author = { kind: 'customer' };
const text = 'Hello, my card was declined at the supermarket this morning';
const draft = { author: customer, text, origin: 'bench', encodedSize: (date: Date) => encodedHistoryEntrySize(date, customer, text) };
const NO_LIMITS = { maxBytes: 2 ** 40, maxEntries: 2 ** 40 };

async function measure(perSession: number, fold: FoldPolicy = DEFAULT_FOLD_POLICY): Promise<{ perEntry: number; pageRead: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'support-floor-'));
  const { db } = openDatabase({ file: path.join(dir, 'support.db'), sync: 'normal' });
  const store = new SqliteSessionStore(db, { fold });
  const ids = Array.from({ length: SESSIONS }, (_, i) => `session-${i}`);
  await Promise.all(ids.map((id, i) => store.createSession(id, `customer-${i}`, new Date(), 10)));
  const started = process.cpuUsage();
  for (let done = 0; done < ENTRIES; done += SESSIONS * perSession) {
    // Queued in one turn of the event loop: one batch, one transaction.
    const batch: Promise<unknown>[] = [];
    for (let k = 0; k < perSession; k++) for (const id of ids) batch.push(store.appendEntry(id, draft, new Date(), NO_LIMITS));
    await Promise.all(batch);
  }
  const used = process.cpuUsage(started);
  const reads = 500;
  const readStarted = performance.now();
  for (let i = 0; i < reads; i++) await store.readHistory(ids[i % SESSIONS]!, 0, Number.MAX_SAFE_INTEGER, 50);
  const pageRead = ((performance.now() - readStarted) * 1000) / reads;
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { perEntry: (used.user + used.system) / ENTRIES, pageRead };
}

async function main(): Promise<void> {
  console.log(`| entries per session per commit | CPU µs per entry |`);
  console.log(`|---|---|`);
  for (const perSession of [1, 2, 8, 32]) console.log(`| ${perSession} | ${(await measure(perSession)).perEntry.toFixed(1)} |`);
  if (!process.argv.includes('--fold-sweep')) return;
  console.log(`\n| fold every (entries) | CPU µs per entry | µs per 50-entry page read, unfolded tail ${ENTRIES} mod N |`);
  console.log(`|---|---|---|`);
  for (const everyEntries of [512, 1024, 4096, 16384, 65536]) {
    const { perEntry, pageRead } = await measure(1, { everyEntries, everyMs: 2 ** 30 });
    console.log(`| ${everyEntries} | ${perEntry.toFixed(1)} | ${pageRead.toFixed(0)} |`);
  }
}

void main();
