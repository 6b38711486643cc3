import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { BUSY_TIMEOUT_MS } from '../../storage/open-database';

/** What a backup copied. */
export type BackupResult = Readonly<{ pages: number; bytes: number; milliseconds: number }>;

/** The copy was made but is not sound, or the source could not be copied: nothing is left at `out`. */
export class BackupFailedError extends Error {}

/** How long a backup waits, in all, for the source while another connection holds a lock it needs. */
const LOCKED_RETRY_MS = 10_000;

/**
 * Copies the database `db` to `out` with SQLite's online backup API, while its server keeps
 * serving. The copy is made in one step: one read transaction, so it is the database as of one
 * commit (in WAL mode a reader never blocks the server's writes, nor they it); copied page by
 * page over several steps, it would start over at every commit of a busy server. The copy goes
 * to a temporary file beside `out`, is checked (PRAGMA integrity_check, foreign_key_check), and
 * only then takes the name `out`.
 */
export async function backupDatabase(db: string, out: string): Promise<BackupResult> {
  if (!fs.existsSync(db)) throw new BackupFailedError(`no database file at ${db}`);
  if (fs.existsSync(out)) throw new BackupFailedError(`${out} exists already; remove it or choose another --out`);
  const started = performance.now();
  const partial = path.join(path.dirname(path.resolve(out)), `.${path.basename(out)}.partial-${process.pid}`);
  const source = new Database(db, { fileMustExist: true });
  try {
    source.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const copied = await copyInOneStep(source, partial);
    checkCopy(partial);
    fs.renameSync(partial, out);
    return { pages: copied.totalPages, bytes: fs.statSync(out).size, milliseconds: performance.now() - started };
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw error instanceof BackupFailedError ? error : new BackupFailedError(error instanceof Error ? error.message : String(error));
  } finally {
    source.close();
  }
}

/** The backup, all remaining pages per step; retried while the source is locked (a checkpoint, a migration). */
async function copyInOneStep(source: Database.Database, file: string): Promise<{ totalPages: number }> {
  const deadline = performance.now() + LOCKED_RETRY_MS;
  for (;;) {
    try {
      return await source.backup(file, { progress: () => 0x7fffffff });
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (!/^SQLITE_(BUSY|LOCKED)/.test(code) || performance.now() > deadline) throw error;
      fs.rmSync(file, { force: true });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Opens the copy and has SQLite check every page and index of it, and every foreign key. */
function checkCopy(file: string): void {
  const copy = new Database(file, { fileMustExist: true });
  try {
    const problems = integrityProblems(copy);
    if (problems.length !== 1 || problems[0]!.integrity_check !== 'ok') {
      throw new BackupFailedError(`the copy fails PRAGMA integrity_check: ${problems.slice(0, 5).map((p) => p.integrity_check).join('; ')}`);
    }
    const orphans = copy.pragma('foreign_key_check') as unknown[];
    if (orphans.length > 0) throw new BackupFailedError(`the copy fails PRAGMA foreign_key_check: ${orphans.length} rows point at nothing`);
  } finally {
    copy.close();
  }
}

/** PRAGMA integrity_check's rows; damage bad enough that SQLite refuses to read on is one row too. */
function integrityProblems(copy: Database.Database): { integrity_check: string }[] {
  try {
    return copy.pragma('integrity_check') as { integrity_check: string }[];
  } catch (error) {
    return [{ integrity_check: error instanceof Error ? error.message : String(error) }];
  }
}
