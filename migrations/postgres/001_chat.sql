-- Sessions and their append-only histories (SPEC §2), shared by every instance (SPEC §8).
-- Times are milliseconds since the Unix epoch (the instances' wall clocks), except the instance
-- leases, which use the database's own clock so that instances never compare clocks.

CREATE TABLE sessions (
  -- Internal key; its order is the order of creation (the queue's tie-breaker).
  pk bigserial PRIMARY KEY,
  -- The opaque public id (SPEC §2: 96+ random bits, URL-safe).
  id text NOT NULL UNIQUE,
  customer text NOT NULL,
  state text NOT NULL CHECK (state IN ('open', 'ended')),
  created_at bigint NOT NULL,
  ended_at bigint,
  -- When the open session last became agent-less; NULL while an agent is attached (or ended).
  awaiting_since bigint,
  -- The newest entry's sequence number and date: the next entry takes last_seq + 1 and a date no
  -- earlier than last_entry_at. Updated in the entry's transaction, under the row's lock, which
  -- is what orders one session's entries whichever instance writes them.
  last_seq bigint NOT NULL DEFAULT 0,
  last_entry_at bigint,
  -- Bytes the history takes in an encoded Session message (SPEC §6 --max-history-bytes).
  history_bytes bigint NOT NULL DEFAULT 0,
  -- Creation, or the customer's last detach (or presence); with last_entry_at, the last activity
  -- the idle timeout counts from (SPEC §6).
  last_activity_at bigint NOT NULL
);

-- The awaiting queue: oldest awaiting_since first, ties by creation.
CREATE INDEX sessions_awaiting ON sessions (awaiting_since, pk) WHERE state = 'open' AND awaiting_since IS NOT NULL;
-- Open sessions per customer (--max-open-sessions), and the idle sweep's scan of open sessions.
CREATE INDEX sessions_open_by_customer ON sessions (customer) WHERE state = 'open';

CREATE TABLE entries (
  session_pk bigint NOT NULL REFERENCES sessions (pk),
  seq bigint NOT NULL,
  date_ms bigint NOT NULL,
  -- NULL for the customer's entries, the agent's id for an agent's.
  agent text,
  text text NOT NULL,
  -- The stream that wrote it: an entry read back to fill a gap in live delivery is still not
  -- echoed to its sender.
  origin text NOT NULL,
  PRIMARY KEY (session_pk, seq)
);

-- One row per running instance. An instance renews its lease; once it has expired the instance
-- is dead for the others: its row is deleted, and with it (the foreign key below) every stream it
-- had attached, so a stalled instance that comes back can attach nothing more.
CREATE TABLE instances (
  id text PRIMARY KEY,
  host text NOT NULL,
  pid integer NOT NULL,
  started_at timestamptz NOT NULL,
  lease_expires_at timestamptz NOT NULL
);

-- Which streams are attached to which session, on which instance (SPEC §3-4, §8): at most one
-- stream per customer, and per agent id, in a session.
CREATE TABLE attendance (
  session_pk bigint NOT NULL REFERENCES sessions (pk),
  role text NOT NULL CHECK (role IN ('customer', 'agent')),
  user_id text NOT NULL,
  stream_id text NOT NULL,
  instance_id text NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
  PRIMARY KEY (session_pk, role, user_id)
);
CREATE INDEX attendance_by_instance ON attendance (instance_id);
