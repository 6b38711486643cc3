import { ChatError } from './chat-error';
import type { Entry } from './entry';
import type { ListPosition, SessionAdministration, SessionSummary } from './session-administration';
import type { SessionRange, SessionRanges } from './session-ranges';
import type { SessionStore } from './session-store';

/** What an export reads: sessions one by one or a range at a time, and their histories page by page. */
export type TranscriptSources = Readonly<{
  store: Pick<SessionStore, 'readHistory'>;
  administration: Pick<SessionAdministration, 'describeSession'>;
  ranges: SessionRanges;
}>;

/** One session, or every session of a time range. */
export type ExportSelection = Readonly<{ sessionId: string }> | Readonly<{ range: SessionRange }>;

/** The parts of an export in order: a session, then its entries a page at a time, then the next session. */
export type TranscriptPart = Readonly<{ kind: 'session'; session: SessionSummary }> | Readonly<{ kind: 'entries'; session: SessionSummary; entries: readonly Entry[] }>;

/** Sessions read per page of a range, entries per page of a history: what an export holds at once. */
const SESSION_PAGE = 100;
const HISTORY_PAGE = 500;

/**
 * The transcripts of `selection`, read from the store a page at a time as the consumer asks for
 * the next part: an export as large as the database is never held whole, and a consumer that
 * waits for its client to read makes the reads wait too. Each session's history is read up to
 * its last entry when it was described. `not-found` for a single session that does not exist.
 */
export async function* transcriptParts(sources: TranscriptSources, selection: ExportSelection): AsyncGenerator<TranscriptPart> {
  if ('sessionId' in selection) {
    const session = await sources.administration.describeSession(selection.sessionId);
    if (!session) throw new ChatError('not-found', 'no such session');
    yield* sessionParts(sources, session);
    return;
  }
  let after: ListPosition | undefined;
  do {
    const page = await sources.ranges.sessionsInRange(selection.range, SESSION_PAGE, after);
    for (const session of page.sessions) yield* sessionParts(sources, session);
    after = page.next;
  } while (after);
}

async function* sessionParts(sources: TranscriptSources, session: SessionSummary): AsyncGenerator<TranscriptPart> {
  yield { kind: 'session', session };
  let afterSeq = 0;
  while (afterSeq < session.entryCount) {
    const entries = await sources.store.readHistory(session.id, afterSeq, session.entryCount, HISTORY_PAGE);
    if (entries.length === 0) return; // erased meanwhile
    yield { kind: 'entries', session, entries };
    afterSeq = entries.at(-1)!.seq;
  }
}
