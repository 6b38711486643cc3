import type { Entry } from '../../domain/entry';
import type { SessionState, SessionSummary } from '../../domain/session-administration';
import {
  AuthorRole,
  SessionState as ProtoSessionState,
  type Entry as ProtoEntry,
  type SessionSummary as ProtoSessionSummary,
} from '../../../gen/support/admin/v1/admin';

/** The domain's sessions and entries as the admin proto has them. */

const STATES: Record<SessionState, ProtoSessionState> = {
  awaiting: ProtoSessionState.SESSION_STATE_AWAITING,
  attended: ProtoSessionState.SESSION_STATE_ATTENDED,
  ended: ProtoSessionState.SESSION_STATE_ENDED,
};

export function toProtoSummary(session: SessionSummary): ProtoSessionSummary {
  return {
    sessionId: session.id,
    customerId: session.customerId,
    state: STATES[session.state],
    createTime: session.createdAt,
    endTime: session.endedAt,
    awaitingSince: session.awaitingSince,
    entryCount: session.entryCount,
    lastEntryTime: session.lastEntryAt,
  };
}

/** An entry of `customerId`'s session: a customer's entry is written by that customer. */
export function toProtoEntry(entry: Entry, customerId: string): ProtoEntry {
  const { author } = entry;
  return {
    seq: entry.seq,
    date: entry.date,
    authorRole: author.kind === 'customer' ? AuthorRole.AUTHOR_ROLE_CUSTOMER : AuthorRole.AUTHOR_ROLE_AGENT,
    authorId: author.kind === 'customer' ? customerId : author.agentId,
    text: entry.text,
  };
}
