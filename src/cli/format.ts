import type { ChatEntry, CloseReason, ConnectionState } from '../client';

/** `[HH:MM:SS] name: text`, in local time. */
export function formatEntry(entry: ChatEntry): string {
  const time = entry.date.toTimeString().slice(0, 8);
  return `[${time}] ${entry.author.id}${entry.fromMe ? ' (you)' : ''}: ${entry.text}`;
}

/** A notice line (starts with `*`) for a connection state change worth telling the user, or undefined. */
export function formatStateChange(state: ConnectionState, previous: ConnectionState): string | undefined {
  if (state.kind === 'reconnecting' && previous.kind !== 'reconnecting') {
    return `* connection lost (${state.cause.message}); reconnecting…`;
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
    reason.unsent.length > 0 ? `not sent: ${reason.unsent.map((t) => JSON.stringify(t)).join(', ')}` : '',
    reason.unconfirmed.length > 0 ? `maybe not delivered: ${reason.unconfirmed.map((t) => JSON.stringify(t)).join(', ')}` : '',
  ].filter(Boolean);
  return [`disconnected: ${why}${reason.error ? ` (${reason.error.message})` : ''}`, ...lost].join('; ');
}
