-- The admin service (support.admin.v1): who took part in a session, and the indexes its listings
-- and the erasure of a customer read through.

-- Every agent who has attached to a session, written when the agent attaches (also one who then
-- wrote nothing): "who took part" is a record, not a guess from the entries.
CREATE TABLE participants (
  session_pk INTEGER NOT NULL REFERENCES sessions (pk),
  agent TEXT NOT NULL,
  first_attached_at INTEGER NOT NULL,
  PRIMARY KEY (session_pk, agent)
) STRICT, WITHOUT ROWID;
-- Sessions an agent took part in (ListSessions' agent filter).
CREATE INDEX participants_by_agent ON participants (agent, session_pk);

-- Listings, newest first: by creation time, ties by creation order.
CREATE INDEX sessions_by_creation ON sessions (created_at, pk);
-- A customer's sessions in any state (the customer filter, erasure).
CREATE INDEX sessions_by_customer ON sessions (customer, created_at, pk);
