import { safeLines, shownName } from '../../text/untrusted-text';
import type { Entry } from '../../domain/entry';
import type { SessionSummary } from '../../domain/session-administration';
import type { TranscriptPart } from '../../domain/transcript-export';

/** JSON Lines (one entry per line) or a transcript a person reads. */
export type TranscriptFormat = 'jsonl' | 'text';

/** What the lines after the first of a multi-line message start with in a text transcript: under the text, never like a heading or an entry. */
const CONTINUATION = ' '.repeat(4);

/** `part` in `format`: a piece per entry (or heading), each of whole lines ending with a line feed. */
export function formatPart(part: TranscriptPart, format: TranscriptFormat): string[] {
  if (format === 'jsonl') return part.kind === 'entries' ? part.entries.map((entry) => jsonLine(part.session, entry)) : [];
  return part.kind === 'session' ? [heading(part.session)] : part.entries.map((entry) => textLine(part.session, entry));
}

/** One entry as a JSON object on one line: JSON escapes every control character, line breaks included. */
function jsonLine(session: SessionSummary, entry: Entry): string {
  const { role, id } = authorOf(session, entry);
  return `${JSON.stringify({ session_id: session.id, seq: entry.seq, date: entry.date.toISOString(), author_role: role, author_id: id, text: entry.text })}\n`;
}

/**
 * A session's heading in a text transcript, after a blank line. Ids are untrusted text (a JWT
 * `sub`): shown as the terminal apps show them (untrusted-text.ts), so that neither they nor a
 * message can drive the terminal the transcript is printed on, or pass for a heading.
 */
function heading(session: SessionSummary): string {
  const ended = session.endedAt ? `ended ${session.endedAt.toISOString()}` : 'open';
  const entries = session.entryCount === 1 ? '1 entry' : `${session.entryCount} entries`;
  return `\n== Session ${session.id}, customer ${shownName(session.customerId)}, created ${session.createdAt.toISOString()}, ${ended}, ${entries}\n`;
}

/** `date  role id: text`, the text's further lines indented under it. */
function textLine(session: SessionSummary, entry: Entry): string {
  const { role, id } = authorOf(session, entry);
  const [first, ...more] = safeLines(entry.text);
  return `${entry.date.toISOString()}  ${role} ${shownName(id)}: ${first}\n${more.map((line) => `${CONTINUATION}${line}\n`).join('')}`;
}

/** A customer's entry is written by the session's customer. */
function authorOf(session: SessionSummary, entry: Entry): { role: 'customer' | 'agent'; id: string } {
  return entry.author.kind === 'customer' ? { role: 'customer', id: session.customerId } : { role: 'agent', id: entry.author.agentId };
}
