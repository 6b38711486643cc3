-- Sessions and their append-only histories (SPEC §2).
-- Times are milliseconds since the Unix epoch (server wall clock).

CREATE TABLE sessions (
  -- Internal key; its order is the order of creation (the queue's tie-breaker).
  pk INTEGER PRIMARY KEY,
  -- The opaque public id (SPEC §2: 96+ random bits, URL-safe).
  id TEXT NOT NULL UNIQUE,
  customer TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'ended')),
  created_at INTEGER NOT NULL,
  ended_at INTEGER,
  -- When the open session last became agent-less; NULL while an agent is attached (or ended).
  -- Stored so that the awaiting queue keeps its order across a restart.
  awaiting_since INTEGER,
  -- Sequence number and date of the newest entry: the next entry takes last_seq + 1 and a date
  -- no earlier than last_entry_at, even if the clock steps back.
  last_seq INTEGER NOT NULL DEFAULT 0,
  last_entry_at INTEGER,
  -- Bytes the history takes in an encoded Session message (SPEC §6 --max-history-bytes).
  history_bytes INTEGER NOT NULL DEFAULT 0,
  -- Creation, or the customer's last detach. With last_entry_at it gives the last activity that
  -- the idle timeout counts from (SPEC §6); kept apart so that an entry updates no index.
  last_activity_at INTEGER NOT NULL
) STRICT;

-- The awaiting queue: oldest awaiting_since first, ties by creation.
CREATE INDEX sessions_awaiting ON sessions (awaiting_since, pk)
  WHERE state = 'open' AND awaiting_since IS NOT NULL;
-- Open sessions per customer (--max-open-sessions).
CREATE INDEX sessions_open_by_customer ON sessions (customer) WHERE state = 'open';

-- A rowid table, so that entries append to the end of the table whatever their session: a commit
-- then writes few table pages; the (session_pk, seq) index holds the history order.
CREATE TABLE entries (
  session_pk INTEGER NOT NULL REFERENCES sessions (pk),
  seq INTEGER NOT NULL,
  date_ms INTEGER NOT NULL,
  -- NULL for the customer's entries, the agent's id for an agent's.
  agent TEXT,
  text TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX entries_by_session ON entries (session_pk, seq);
