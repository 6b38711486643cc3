import type pg from 'pg';
import type { AttachedStream, Attachments } from '../domain/attachments';
import type { StreamId } from '../domain/event-bus';
import type { PostgresChannel } from '../storage/postgres/postgres-channel';
import { unlessUnavailable } from '../storage/postgres/postgres-connection';
import { inTransaction, queueTime } from '../storage/postgres/postgres-queries';

type Role = 'customer' | 'agent';
type DisplaceMessage = { t: 'displace'; i: string; s: StreamId };
type LocalStream = Readonly<{ sessionId: string; role: Role; stream: AttachedStream }>;

/** The customer of a session is one: its attendance row needs no user id. */
const THE_CUSTOMER = '';

/**
 * Attachments shared by the instances of a deployment (SPEC §8): each attached stream is a row
 * of `attendance` (session, role, user, stream, instance), so takeover, "the last agent left" and
 * the idle timeout see every instance's streams. A takeover of a stream on another instance is
 * sent to it on the channel, and it ends that stream at once. Every change locks the session's
 * row first: two agents of two instances leaving at once are ordered, and the second sees that
 * no agent is left. The rows of an instance that died go with its lease (instance-lease.ts).
 */
export class PostgresAttachments implements Attachments {
  /** The streams attached on this instance, by id: what a takeover request names. */
  private readonly local = new Map<StreamId, LocalStream>();

  constructor(
    private readonly instanceId: string,
    private readonly pool: pg.Pool,
    private readonly channel: PostgresChannel,
  ) {
    channel.onMessage((message) => {
      if (isDisplaceMessage(message) && message.i === instanceId) this.local.get(message.s)?.stream.displace();
    });
  }

  attachCustomer(sessionId: string, stream: AttachedStream): Promise<void> {
    return this.attach(sessionId, 'customer', THE_CUSTOMER, stream);
  }

  detachCustomer(sessionId: string, streamId: StreamId): Promise<boolean> {
    this.local.delete(streamId);
    return unlessUnavailable(async () => {
      const { rowCount } = await this.pool.query(
        "DELETE FROM attendance WHERE session_pk = (SELECT pk FROM sessions WHERE id = $1) AND role = 'customer' AND stream_id = $2",
        [sessionId, streamId],
      );
      return rowCount === 1;
    });
  }

  attachAgent(sessionId: string, agentId: string, stream: AttachedStream): Promise<void> {
    return this.attach(sessionId, 'agent', agentId, stream);
  }

  detachAgent(sessionId: string, agentId: string, streamId: StreamId, requeueAt?: Date): Promise<void> {
    this.local.delete(streamId);
    return unlessUnavailable(() =>
      inTransaction(this.pool, async (client) => {
        const pk = await lockSession(client, sessionId);
        if (pk === undefined) return;
        const { rowCount } = await client.query("DELETE FROM attendance WHERE session_pk = $1 AND role = 'agent' AND user_id = $2 AND stream_id = $3", [pk, agentId, streamId]);
        if (rowCount !== 1 || !requeueAt) return;
        await client.query(
          `UPDATE sessions SET awaiting_since = ${queueTime('$2')}
            WHERE pk = $1 AND state = 'open' AND NOT EXISTS (SELECT 1 FROM attendance WHERE session_pk = $1 AND role = 'agent')`,
          [pk, requeueAt.getTime()],
        );
      }),
    );
  }

  async hasCustomer(sessionId: string): Promise<boolean> {
    const { rowCount } = await unlessUnavailable(() =>
      this.pool.query("SELECT 1 FROM attendance WHERE session_pk = (SELECT pk FROM sessions WHERE id = $1) AND role = 'customer'", [sessionId]),
    );
    return rowCount !== 0;
  }

  localSessionsWithCustomer(): string[] {
    return [...this.local.values()].filter((s) => s.role === 'customer').map((s) => s.sessionId);
  }

  get localSessionCount(): number {
    return new Set([...this.local.values()].map((s) => s.sessionId)).size;
  }

  /** Records the stream as the session's one for `role` and `userId`, and displaces the one it replaces, wherever it is. */
  private async attach(sessionId: string, role: Role, userId: string, stream: AttachedStream): Promise<void> {
    this.local.set(stream.id, { sessionId, role, stream });
    const previous = await unlessUnavailable(() =>
      inTransaction(this.pool, async (client) => {
        const pk = await lockSession(client, sessionId);
        if (pk === undefined) return undefined;
        const { rows } = await client.query<{ stream_id: string; instance_id: string }>(
          'SELECT stream_id, instance_id FROM attendance WHERE session_pk = $1 AND role = $2 AND user_id = $3',
          [pk, role, userId],
        );
        await client.query(
          `INSERT INTO attendance (session_pk, role, user_id, stream_id, instance_id) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (session_pk, role, user_id) DO UPDATE SET stream_id = EXCLUDED.stream_id, instance_id = EXCLUDED.instance_id`,
          [pk, role, userId, stream.id, this.instanceId],
        );
        return rows[0];
      }),
    ).catch((error: unknown) => {
      this.local.delete(stream.id);
      throw error;
    });
    if (!previous || previous.stream_id === stream.id) return;
    if (previous.instance_id === this.instanceId) this.local.get(previous.stream_id)?.stream.displace();
    else this.channel.send({ t: 'displace', i: previous.instance_id, s: previous.stream_id } satisfies DisplaceMessage);
  }
}

/** Locks the session's row (every attachment change of a session is made under it); its key, or undefined if there is no such session. */
async function lockSession(client: pg.PoolClient, sessionId: string): Promise<string | undefined> {
  const { rows } = await client.query<{ pk: string }>('SELECT pk FROM sessions WHERE id = $1 FOR UPDATE', [sessionId]);
  return rows[0]?.pk;
}

function isDisplaceMessage(message: unknown): message is DisplaceMessage {
  return typeof message === 'object' && message !== null && (message as { t?: unknown }).t === 'displace';
}
