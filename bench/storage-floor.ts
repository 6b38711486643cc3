/**
 * `node dist/bench/storage-floor.js`: the CPU cost of committing one entry through the real store
 * (SqliteSessionStore and its group commit, on a temp file), with no gRPC around it, for batches
 * holding 1, 2, 8 and 32 entries per session across 100 sessions. It shows the floor that SQLite
 * sets under the server's CPU per message, and how it falls as more entries of one session share
 * a commit (they share the index pages the commit writes). See BENCHMARKS.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodedHistoryEntrySize } from '../src/transport/history-entry-size';
import type { Author } from '../src/domain/entry';
import { openDatabase } from '../src/storage/open-database';
import { SqliteSessionStore } from '../src/storage/sqlite-session-store';

const SESSIONS = 100;
const ENTRIES = 200_000;
const customer: Author = { kind: 'customer' };
const text = 'Hello, my card was declined at the supermarket this morning';
const draft = { author: customer, text, origin: 'bench', encodedSize: (date: Date) => encodedHistoryEntrySize(date, customer, text) };
const NO_LIMITS = { maxBytes: 2 ** 40, maxEntries: 2 ** 40 };

async function measure(perSession: number): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'support-floor-'));
  const { db } = openDatabase({ file: path.join(dir, 'support.db'), sync: 'normal' });
  const store = new SqliteSessionStore(db);
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
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return (used.user + used.system) / ENTRIES;
}

async function main(): Promise<void> {
  console.log(`| entries per session per commit | CPU µs per entry |`);
  console.log(`|---|---|`);
  for (const perSession of [1, 2, 8, 32]) console.log(`| ${perSession} | ${(await measure(perSession)).toFixed(1)} |`);
}

void main();
