import { ChatError } from '../domain/chat-error';
import type { QueueEvent, QueueEventKind, QueueEvents, QueueWatcher } from '../domain/queue-events';
import type { PostgresChannel } from '../storage/postgres/postgres-channel';
import { QueueWatchers } from './queue-watchers';

/**
 * A queue event on the channel: its instance, its number among that instance's queue events (two
 * equal payloads in one transaction would be delivered once, and a gap means one was lost), then
 * kind, session, customer, and time (ms).
 */
type QueueMessage = { t: 'queue'; i: string; n: number; q: [kind: QueueEventKind, sessionId: string, customerId: string, atMs: number] };

const KINDS: ReadonlySet<unknown> = new Set<QueueEventKind>(['waiting', 'taken', 'ended']);

/**
 * The queue's events of a deployment on PostgreSQL (SPEC §8): this instance's watchers get its
 * events at once, the other instances through the channel (LISTEN/NOTIFY), in the order each
 * instance sent them. Nothing is stored to fill from: when the channel was cut, or another
 * instance's events arrive with a gap in their numbers, notifications were lost, so every watch is
 * told (`onMissed`) and the caller decides.
 */
export class PostgresQueueEvents implements QueueEvents {
  private readonly watchers: QueueWatchers;
  private sent = 0;
  /** The number of the last queue event received from each other instance. */
  private readonly lastReceived = new Map<string, number>();

  constructor(
    private readonly instanceId: string,
    private readonly channel: PostgresChannel,
    onWatcherError: (error: unknown) => void,
  ) {
    this.watchers = new QueueWatchers(onWatcherError);
    channel.onMessage((message) => this.receive(message));
    channel.onReconnect(() => this.watchers.missed());
  }

  publish(event: QueueEvent): void {
    this.watchers.offer(event);
    // Sent even without watchers here: other instances may have some.
    const message: QueueMessage = { t: 'queue', i: this.instanceId, n: ++this.sent, q: [event.kind, event.sessionId, event.customerId, event.at.getTime()] };
    this.channel.send(message);
  }

  async watch(watcher: QueueWatcher): Promise<() => void> {
    if (!this.channel.live) throw new ChatError('unavailable', 'the database is unavailable; try again shortly');
    return this.watchers.add(watcher);
  }

  private receive(message: unknown): void {
    if (!isQueueMessage(message) || message.i === this.instanceId) return; // this instance's own were delivered at once
    const previous = this.lastReceived.get(message.i);
    this.lastReceived.set(message.i, message.n);
    // A notification that instance could not send (its database connection failed) is lost.
    if (previous !== undefined && message.n !== previous + 1) this.watchers.missed();
    const [kind, sessionId, customerId, atMs] = message.q;
    this.watchers.offer({ kind, sessionId, customerId, at: new Date(atMs) });
  }
}

function isQueueMessage(message: unknown): message is QueueMessage {
  if (typeof message !== 'object' || message === null || (message as { t?: unknown }).t !== 'queue') return false;
  const { i, n, q } = message as { i?: unknown; n?: unknown; q?: unknown };
  return typeof i === 'string' && typeof n === 'number' && Array.isArray(q) && q.length === 4 && KINDS.has(q[0]) && typeof q[1] === 'string' && typeof q[2] === 'string' && typeof q[3] === 'number';
}
