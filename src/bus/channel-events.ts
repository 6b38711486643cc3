import type { Author } from '../domain/entry';
import type { SessionEvent } from '../domain/event-bus';

/**
 * An event on the PostgreSQL channel: an entry with all it needs (`e`), an end (`x`), or only a
 * position (`p`: an entry too large for a notification, read from the store).
 */
export type ChannelEvent =
  | [sessionId: string, seq: number, kind: 'e', dateMs: number, agent: string | null, text: string, origin: string]
  | [sessionId: string, seq: number, kind: 'x' | 'p'];

/** One notification: the events an instance (`i`) published in one turn. */
export type EventsMessage = { t: 'events'; i: string; e: ChannelEvent[] };

/** Room left in a notification for the message around its events. */
const ENVELOPE_BYTES = 100;
/** The size of a position event, at most. */
const POSITION_BYTES = 60;

export function toChannelEvent(event: SessionEvent): ChannelEvent {
  if (event.kind === 'ended') return [event.sessionId, event.seq, 'x'];
  const { entry } = event;
  return [event.sessionId, event.seq, 'e', entry.date.getTime(), entry.author.kind === 'agent' ? entry.author.agentId : null, entry.text, event.origin];
}

/**
 * The events as notifications of at most `maxPayloadBytes`, in order; an entry too large for one
 * goes as its position.
 */
export function toMessages(instanceId: string, events: readonly ChannelEvent[], maxPayloadBytes: number): EventsMessage[] {
  const limit = maxPayloadBytes - ENVELOPE_BYTES;
  const messages: EventsMessage[] = [];
  let batch: ChannelEvent[] = [];
  let bytes = 0;
  for (const event of events) {
    const size = Buffer.byteLength(JSON.stringify(event)) + 1;
    const sent: ChannelEvent = size > limit ? [event[0], event[1], 'p'] : event;
    const sentSize = sent === event ? size : POSITION_BYTES;
    if (bytes + sentSize > limit && batch.length > 0) {
      messages.push({ t: 'events', i: instanceId, e: batch });
      batch = [];
      bytes = 0;
    }
    batch.push(sent);
    bytes += sentSize;
  }
  if (batch.length > 0) messages.push({ t: 'events', i: instanceId, e: batch });
  return messages;
}

/** An entry event, from the channel or read back from the store. */
export function entryEvent(sessionId: string, seq: number, dateMs: number, agent: string | null, text: string, origin: string): SessionEvent {
  const author: Author = agent === null ? { kind: 'customer' } : { kind: 'agent', agentId: agent };
  return { kind: 'entry', sessionId, seq, origin, entry: { seq, date: new Date(dateMs), author, text } };
}

export function isEventsMessage(message: unknown): message is EventsMessage {
  return typeof message === 'object' && message !== null && (message as { t?: unknown }).t === 'events' && Array.isArray((message as { e?: unknown }).e);
}
