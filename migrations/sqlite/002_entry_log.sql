-- Histories as an append-only log, indexed in bulk (issue 14).
--
-- THE LAYOUT
-- * entries: the log. A message is one INSERT at the end of this table, whatever its session, and
--   nothing else: no per-session index page, no session row, is written on the per-message path.
--   `id` is an alias of the rowid (so VACUUM keeps it). The server numbers new rows itself, above
--   every id in the table and above folded_up_to, so that a new entry always lands in the tail, even
--   after the newest entries were deleted.
--   Nothing references sessions from here (no FOREIGN KEY): a foreign key without an index on
--   session_pk would make every DELETE of a session scan the whole log.
-- * entry_index: (session_pk, seq) -> entries.id for every FOLDED entry, in history order.
-- * entry_log.folded_up_to: entries with id <= folded_up_to are in entry_index and counted in
--   their session's counters (sessions.last_seq, last_entry_at, history_bytes); those above it are
--   the TAIL, found by a scan of `id > folded_up_to` (short: the server folds it every few
--   thousand entries or about a second, and at start-up before it serves).
-- * A fold is one transaction: index the tail's rows, add them to their sessions' counters, move
--   folded_up_to. A crash before its COMMIT leaves the tail as it was, to be folded at start-up.
--
-- READING a history: entry_index joined to entries for the folded part, UNION ALL the tail rows of
-- the session (`id > folded_up_to AND session_pk = ?`), in one statement (one snapshot).
-- COUNTING a session: its row's counters plus the aggregate of its tail rows.
-- DELETING entries: use deleteEntriesOfSessions (src/storage/sqlite/delete-entries.ts), which
-- removes both the index rows and the log rows, folded or not. A raw `DELETE FROM entries` would
-- scan the whole log and leave index rows behind.

CREATE TABLE entries_log (
  id INTEGER PRIMARY KEY,
  session_pk INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  date_ms INTEGER NOT NULL,
  -- NULL for the customer's entries, the agent's id for an agent's.
  agent TEXT,
  text TEXT NOT NULL,
  -- Bytes the entry adds to its session's history_bytes (SPEC §6), added by the fold. NULL for
  -- entries written before this layout: they were counted when they were written.
  encoded_bytes INTEGER
) STRICT;
INSERT INTO entries_log (id, session_pk, seq, date_ms, agent, text)
  SELECT rowid, session_pk, seq, date_ms, agent, text FROM entries ORDER BY rowid;
DROP TABLE entries;
ALTER TABLE entries_log RENAME TO entries;

CREATE TABLE entry_index (
  session_pk INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  entry_id INTEGER NOT NULL,
  PRIMARY KEY (session_pk, seq)
) STRICT, WITHOUT ROWID;
INSERT INTO entry_index (session_pk, seq, entry_id) SELECT session_pk, seq, id FROM entries ORDER BY session_pk, seq;

-- One row. Every entry of a 001 database was counted in its session row when written: all folded.
CREATE TABLE entry_log (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  folded_up_to INTEGER NOT NULL
) STRICT;
INSERT INTO entry_log (one, folded_up_to) SELECT 1, IFNULL(MAX(id), 0) FROM entries;
