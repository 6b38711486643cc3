import type { ChatEntry, CloseReason, ConnectionState } from '../client';
import { oneLine, quoted, safeLines, shownName } from '../text/untrusted-text';

/**
 * What lines after the first of a multi-line message start with: as wide as the `[HH:MM:SS] `
 * of the header, so that they stand under it and never start like an entry (`[`) or a notice (`*`).
 */
const CONTINUATION = ' '.repeat('[HH:MM:SS] '.length);

/**
 * `[HH:MM:SS] name: text`, in local time; the text's further lines indented under it. Name and
 * text come from others, so both are made safe (see untrusted-text.ts).
 */
export function formatEntry(entry: ChatEntry): string {
  const time = entry.date.toTimeString().slice(0, 8);
  const [first, ...more] = safeLines(entry.text);
  const header = `[${time}] ${shownName(entry.author.id)}${entry.fromMe ? ' (you)' : ''}: ${first}`;
  return [header, ...more.map((line) => CONTINUATION + line)].join('\n');
}

/**
 * What the close notice says of messages whose arrival is unknown: `unknown` when the app cannot
 * check, `checked-next-start` when its next start looks for them in the session's history.
 */
export type UnconfirmedNote = 'unknown' | 'checked-next-start';

/** A notice line (starts with `*`) for a connection state change worth telling the user, or undefined. */
export function formatStateChange(state: ConnectionState, previous: ConnectionState, note: UnconfirmedNote = 'unknown'): string | undefined {
  if (state.kind === 'reconnecting' && previous.kind !== 'reconnecting') {
    return `* connection lost (${oneLine(state.cause.message)}); reconnecting…`;
  }
  if (state.kind === 'connected' && previous.kind === 'reconnecting') return '* connected again';
  if (state.kind === 'closed' && state.reason.kind !== 'closed-by-app') return `* ${describeClose(state.reason, note)}`;
  return undefined;
}

function describeClose(reason: CloseReason, note: UnconfirmedNote): string {
  const why = {
    'gave-up': 'gave up reconnecting',
    'taken-over': 'the session was taken over by another window or device',
    refused: 'the server refused this client',
    'closed-by-app': 'closed',
  }[reason.kind];
  const lost = [
    reason.unsent.length > 0 ? `not sent: ${reason.unsent.map(quoted).join(', ')}` : '',
    reason.unconfirmed.length > 0 ? `${UNCONFIRMED_LABEL[note]}: ${reason.unconfirmed.map(quoted).join(', ')}` : '',
  ].filter(Boolean);
  return [`disconnected: ${why}${reason.error ? ` (${oneLine(reason.error.message)})` : ''}`, ...lost].join('; ');
}

const UNCONFIRMED_LABEL: Record<UnconfirmedNote, string> = {
  unknown: 'maybe not delivered',
  'checked-next-start': 'written just before (the next start checks whether they arrived)',
};

/**
 * The notice for messages a run could not confirm, once the next run has the session's history:
 * those not among the user's own entries in it were not delivered. Undefined when all were.
 */
export function formatUndelivered(unconfirmed: readonly string[], ownTexts: readonly string[]): string | undefined {
  const left = [...ownTexts];
  const missing = unconfirmed.filter((text) => {
    const found = left.indexOf(text);
    if (found >= 0) left.splice(found, 1); // each entry of the history confirms one message
    return found < 0;
  });
  if (missing.length === 0) return undefined;
  return `* not delivered before the last disconnect (not in the session's history): ${missing.map(quoted).join(', ')}`;
}
