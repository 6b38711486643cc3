/**
 * `node dist/bench/erase-cost.js`: what erasing a customer costs on SQLite (the admin service's
 * EraseCustomer), on a database of 200,000 entries (100 customers, 5 sessions of 400 entries
 * each): the delete with secure_delete and the truncating WAL checkpoint the server does, against
 * a plain delete and against VACUUM; and what secure_delete costs the chat's own writes (the CPU
 * per entry committed, as in storage-floor.ts). See BENCHMARKS.md, "Erasing a customer".
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { Author } from '../src/domain/entry';
import { encodedHistoryEntrySize } from '../src/transport/history-entry-size';
import { openDatabase } from '../src/storage/open-database';
import { SqliteSessionAdministration } from '../src/storage/sqlite-session-administration';
import { SqliteSessionStore } from '../src/storage/sqlite-session-store';
import { deleteEntriesOfSessions } from '../src/storage/sqlite/delete-entries';

const CUSTOMERS = 100;
const SESSIONS_PER_CUSTOMER = 5;
const ENTRIES_PER_SESSION = 400;
const ERASED = 10;
const customer: Author = { kind: 'customer' };
const text = 'Hello, my card was declined at the supermarket this morning';
const draft = { author: customer, text, origin: 'bench', encodedSize: (date: Date) => encodedHistoryEntrySize(date, customer, text) };
const NO_LIMITS = { maxBytes: 2 ** 40, maxEntries: 2 ** 40 };

type Opened = { dir: string; db: Database.Database; store: SqliteSessionStore; administration: SqliteSessionAdministration };

function open(secureDelete: boolean): Opened {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'support-erase-'));
  const { db } = openDatabase({ file: path.join(dir, 'support.db'), sync: 'normal' });
  db.pragma(`secure_delete = ${secureDelete ? 'ON' : 'OFF'}`);
  const store = new SqliteSessionStore(db);
  return { dir, db, store, administration: new SqliteSessionAdministration(db, store.housekeeping) };
}

function close({ dir, store }: Opened): void {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Fills the database, one entry per session per commit (as live traffic does); returns the CPU µs per entry. */
async function fill({ store }: Opened): Promise<number> {
  const ids: string[] = [];
  for (let c = 0; c < CUSTOMERS; c++) {
    for (let s = 0; s < SESSIONS_PER_CUSTOMER; s++) ids.push(`c${c}-s${s}`);
  }
  await Promise.all(ids.map((id) => store.createSession(id, id.split('-')[0]!, new Date(), SESSIONS_PER_CUSTOMER)));
  const started = process.cpuUsage();
  for (let i = 0; i < ENTRIES_PER_SESSION; i++) await Promise.all(ids.map((id) => store.appendEntry(id, draft, new Date(), NO_LIMITS)));
  const used = process.cpuUsage(started);
  return (used.user + used.system) / (ids.length * ENTRIES_PER_SESSION);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Live traffic between two erasures: one entry in each session of the customers not erased yet (it fills the WAL). */
async function traffic({ store }: Opened, fromCustomer: number): Promise<void> {
  const writes: Promise<unknown>[] = [];
  for (let c = fromCustomer; c < CUSTOMERS; c++) {
    for (let s = 0; s < SESSIONS_PER_CUSTOMER; s++) writes.push(store.appendEntry(`c${c}-s${s}`, draft, new Date(), NO_LIMITS));
  }
  await Promise.all(writes);
}

/** The erasure's transaction alone: no checkpoint after it. */
function rawDelete({ db, store }: Opened, customerId: string): Promise<void> {
  return store.housekeeping.deleteThroughWriteQueue(() => {
    const pks = db.prepare<[string], { pk: number }>('SELECT pk FROM sessions WHERE customer = ?').all(customerId).map((r) => r.pk);
    deleteEntriesOfSessions(db, pks); // through the entry log's index and tail, as the erasure does
    for (const pk of pks) {
      db.prepare('DELETE FROM participants WHERE session_pk = ?').run(pk);
      db.prepare('DELETE FROM sessions WHERE pk = ?').run(pk);
    }
    return { deletedSessionIds: [], result: undefined };
  });
}

/** What EraseCustomer does on SQLite: the delete, then the purge of the write-ahead log. */
async function eraseAndPurge({ administration }: Opened, customerId: string): Promise<void> {
  await administration.eraseCustomer(customerId);
  await administration.purgeDeleted();
}

async function timed(work: () => unknown): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

type Variant = { name: string; secureDelete: boolean; erase: (opened: Opened, customerId: string) => Promise<unknown> };

const VARIANTS: Variant[] = [
  { name: 'DELETE, secure_delete off (not what the server does)', secureDelete: false, erase: rawDelete },
  { name: 'DELETE, secure_delete on', secureDelete: true, erase: rawDelete },
  { name: 'EraseCustomer: DELETE with secure_delete on, then wal_checkpoint(TRUNCATE)', secureDelete: true, erase: eraseAndPurge },
];

async function main(): Promise<void> {
  const entries = SESSIONS_PER_CUSTOMER * ENTRIES_PER_SESSION;
  console.log(`${CUSTOMERS * entries} entries; each erased customer has ${SESSIONS_PER_CUSTOMER} sessions, ${entries} entries; one entry per other session committed before each erasure`);
  console.log('| | median ms per erased customer | CPU µs per entry committed while filling |');
  console.log('|---|---|---|');
  for (const variant of VARIANTS) {
    const opened = open(variant.secureDelete);
    const floor = await fill(opened);
    const ms: number[] = [];
    for (let c = 0; c < ERASED; c++) {
      await traffic(opened, c);
      ms.push(await timed(() => variant.erase(opened, `c${c}`)));
    }
    console.log(`| ${variant.name} | ${median(ms).toFixed(1)} | ${floor.toFixed(1)} |`);
    if (variant === VARIANTS.at(-1)) {
      const mb = (fs.statSync(path.join(opened.dir, 'support.db')).size / 1e6).toFixed(1);
      console.log(`| VACUUM of the whole ${mb} MB database (the alternative to secure_delete) | ${(await timed(() => opened.db.exec('VACUUM'))).toFixed(1)} | |`);
    }
    close(opened);
  }
}

void main();
