import type Database from 'better-sqlite3';

/**
 * Deletes every entry of the sessions `sessionPks`, folded or not (see
 * migrations/sqlite/002_entry_log.sql): the log rows through the index, the tail rows by a scan of
 * the tail, then the index rows. Run it in the same transaction as the DELETE of the sessions
 * themselves (a session pk may be given again once its row is gone, and its old index rows would
 * then collide with the new session's entries). Returns how many entries it deleted.
 *
 * Only for sessions no server is writing to (ended ones, or with the server stopped): the log has
 * no foreign key (see the migration), so an entry appended to a session deleted under a running
 * server's feet would not be refused.
 */
export function deleteEntriesOfSessions(db: Database.Database, sessionPks: readonly number[]): number {
  if (sessionPks.length === 0) return 0;
  const pks = JSON.stringify(sessionPks);
  const inSessions = 'session_pk IN (SELECT value FROM json_each(?))';
  const folded = db.prepare(`DELETE FROM entries WHERE id IN (SELECT entry_id FROM entry_index WHERE ${inSessions})`).run(pks).changes;
  const tail = db.prepare(`DELETE FROM entries WHERE id > (SELECT folded_up_to FROM entry_log) AND ${inSessions}`).run(pks).changes;
  db.prepare(`DELETE FROM entry_index WHERE ${inSessions}`).run(pks);
  return folded + tail;
}

/**
 * Deletes up to `limit` of one session's entries, oldest first (retention deletes a long history
 * in several short batches): folded ones through the index, then, once none is left there, its
 * rows in the tail. Returns how many it deleted. The same rule as above: ended sessions only.
 */
export function deleteOldestEntriesOfSession(db: Database.Database, sessionPk: number, limit: number): number {
  const oldestFolded = 'SELECT seq FROM entry_index WHERE session_pk = @pk ORDER BY seq LIMIT @limit';
  const folded = db
    .prepare(`DELETE FROM entries WHERE id IN (SELECT entry_id FROM entry_index WHERE session_pk = @pk AND seq IN (${oldestFolded}))`)
    .run({ pk: sessionPk, limit }).changes;
  db.prepare(`DELETE FROM entry_index WHERE session_pk = @pk AND seq IN (${oldestFolded})`).run({ pk: sessionPk, limit });
  if (folded >= limit) return folded;
  const tail = db
    .prepare('DELETE FROM entries WHERE id IN (SELECT id FROM entries WHERE id > (SELECT folded_up_to FROM entry_log) AND session_pk = @pk ORDER BY id LIMIT @limit)')
    .run({ pk: sessionPk, limit: limit - folded }).changes;
  return folded + tail;
}
