import type { ChatEntry, CloseReason, ConnectionState } from '../client';
import { oneLine, quoted, safeLines, shownName } from './untrusted-text';

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

/** A notice line (starts with `*`) for a connection state change worth telling the user, or undefined. */
export function formatStateChange(state: ConnectionState, previous: ConnectionState): string | undefined {
  if (state.kind === 'reconnecting' && previous.kind !== 'reconnecting') {
    return `* connection lost (${oneLine(state.cause.message)}); reconnecting…`;
  }
  if (state.kind === 'connected' && previous.kind === 'reconnecting') return '* connected again';
  if (state.kind === 'closed' && state.reason.kind !== 'closed-by-app') return `* ${describeClose(state.reason)}`;
  return undefined;
}

function describeClose(reason: CloseReason): string {
  const why = {
    'gave-up': 'gave up reconnecting',
    'taken-over': 'the session was taken over by another window or device',
    refused: 'the server refused this client',
    'closed-by-app': 'closed',
  }[reason.kind];
  const lost = [
    reason.unsent.length > 0 ? `not sent: ${reason.unsent.map(quoted).join(', ')}` : '',
    reason.unconfirmed.length > 0 ? `maybe not delivered: ${reason.unconfirmed.map(quoted).join(', ')}` : '',
  ].filter(Boolean);
  return [`disconnected: ${why}${reason.error ? ` (${oneLine(reason.error.message)})` : ''}`, ...lost].join('; ');
}
