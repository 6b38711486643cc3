import { createHash } from 'node:crypto';
import pg from 'pg';
import { connectionConfig, type PostgresLocation } from './postgres-connection';

/** NOTIFY's payload limit is 8000 bytes; messages are kept a little under it. */
export const MAX_PAYLOAD_BYTES = 7900;
/** Reconnection delays of the listening connection. */
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 2_000;

type Handler = (message: unknown) => void;

/**
 * The instances' channel on the deployment's database: LISTEN/NOTIFY on one channel per schema.
 * A dedicated connection listens, and reconnects by itself when it is cut (`onReconnect` then
 * runs: notifications sent meanwhile were missed). Messages are JSON, each under NOTIFY's size
 * limit. The same connection sends this instance's messages, one statement at a time, each
 * carrying all that was sent while the previous one was under way: they leave in the order they
 * were sent (receivers see fewer gaps), and never wait behind the pool's transactions or gap fills.
 */
export class PostgresChannel {
  readonly name: string;
  private listener: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;
  private outbox: string[] = [];
  /** Sends the outbox until it is empty; set while that runs. */
  private sending: Promise<void> | undefined;
  private readonly handlers: Handler[] = [];
  private readonly reconnectHandlers: (() => void)[] = [];

  constructor(
    private readonly location: PostgresLocation,
    private readonly pool: pg.Pool,
    private readonly reportError: (error: unknown) => void,
  ) {
    this.name = channelName(location.schema);
  }

  /** Listens; resolves once the channel is live. */
  async open(): Promise<void> {
    await this.connect();
  }

  /** Whether the listening connection is up (notifications are being received). */
  get live(): boolean {
    return this.listener !== undefined;
  }

  onMessage(handler: Handler): void {
    this.handlers.push(handler);
  }

  onReconnect(handler: () => void): void {
    this.reconnectHandlers.push(handler);
  }

  /** Sends `message` (JSON, under MAX_PAYLOAD_BYTES) to every instance, this one included, once the running task is done. */
  send(message: unknown): void {
    this.outbox.push(JSON.stringify(message));
    this.sending ??= Promise.resolve().then(() => this.sendOutbox());
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.sending;
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => {});
  }

  private async sendOutbox(): Promise<void> {
    while (this.outbox.length > 0) {
      const payloads = this.outbox;
      this.outbox = [];
      // On the pool while the listening connection is down. Lost if the database is unreachable:
      // the receivers fill the gap from the store (see postgres-event-bus.ts).
      await (this.listener ?? this.pool).query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [this.name, payloads]).catch(this.reportError);
    }
    this.sending = undefined;
  }

  private connect(): Promise<void> {
    this.connecting ??= this.listen().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async listen(): Promise<void> {
    const client = new pg.Client(connectionConfig(this.location));
    client.on('notification', (notification) => this.receive(notification.payload));
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN "${this.name}"`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    this.listener = client;
  }

  private receive(payload: string | undefined): void {
    if (payload === undefined) return;
    let message: unknown;
    try {
      message = JSON.parse(payload);
    } catch (error) {
      return this.reportError(error);
    }
    for (const handler of this.handlers) handler(message);
  }

  /** The listening connection broke: reconnect with backoff, then tell the handlers. */
  private lost(client: pg.Client): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    client.end().catch(() => {});
    void this.reconnect(RECONNECT_MIN_MS);
  }

  private async reconnect(delayMs: number): Promise<void> {
    if (this.closed) return;
    await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
    if (this.closed) return;
    try {
      await this.connect();
    } catch {
      return this.reconnect(Math.min(delayMs * 2, RECONNECT_MAX_MS));
    }
    for (const handler of this.reconnectHandlers) handler();
  }
}

/** The channel of a schema: its name if it fits an identifier, a digest of it otherwise. */
function channelName(schema: string): string {
  const name = `support:${schema}`;
  return Buffer.byteLength(name) <= 63 && !name.includes('"') ? name : `support:${createHash('sha256').update(schema).digest('hex').slice(0, 40)}`;
}
