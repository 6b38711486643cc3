import type pg from 'pg';
import type { AttachedStream, Attachments } from '../domain/attachments';
import type { StreamId } from '../domain/event-bus';
import type { PostgresChannel } from '../storage/postgres/postgres-channel';
import { unlessUnavailable } from '../storage/postgres/postgres-connection';
import { inTransaction, queueTime } from '../storage/postgres/postgres-queries';

type Role = 'customer' | 'agent';
type DisplaceMessage = { t: 'displace'; i: string; s: StreamId };
/** A stream attached on this instance; `recorded` once its attendance row has committed. */
type LocalStream = { readonly sessionId: string; readonly role: Role; readonly stream: AttachedStream; recorded: boolean };

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
    channel.onReconnect(() => void this.displaceReplaced().catch(() => {}));
  }

  async attachCustomer(sessionId: string, stream: AttachedStream): Promise<void> {
    await this.attach(sessionId, 'customer', THE_CUSTOMER, stream);
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

  attachAgent(sessionId: string, agentId: string, stream: AttachedStream): Promise<boolean> {
    return this.attach(sessionId, 'agent', agentId, stream);
  }

  detachAgent(sessionId: string, agentId: string, streamId: StreamId, requeueAt?: Date): Promise<boolean> {
    this.local.delete(streamId);
    return unlessUnavailable(() =>
      inTransaction(this.pool, async (client) => {
        const pk = await lockSession(client, sessionId);
        if (pk === undefined) return false;
        const { rowCount } = await client.query("DELETE FROM attendance WHERE session_pk = $1 AND role = 'agent' AND user_id = $2 AND stream_id = $3", [pk, agentId, streamId]);
        if (rowCount !== 1 || !requeueAt) return false;
        const requeued = await client.query(
          `UPDATE sessions SET awaiting_since = ${queueTime('$2')}
            WHERE pk = $1 AND state = 'open' AND NOT EXISTS (SELECT 1 FROM attendance WHERE session_pk = $1 AND role = 'agent')`,
          [pk, requeueAt.getTime()],
        );
        return requeued.rowCount === 1;
      }),
    );
  }

  async hasCustomer(sessionId: string): Promise<boolean> {
    const { rowCount } = await unlessUnavailable(() =>
      this.pool.query("SELECT 1 FROM attendance WHERE session_pk = (SELECT pk FROM sessions WHERE id = $1) AND role = 'customer'", [sessionId]),
    );
    return rowCount !== 0;
  }

  async attachedAgentCount(): Promise<number> {
    const { rows } = await unlessUnavailable(() => this.pool.query<{ n: string }>("SELECT count(*) AS n FROM attendance WHERE role = 'agent'"));
    return Number(rows[0]!.n);
  }

  localSessionsWithCustomer(): string[] {
    return [...this.local.values()].filter((s) => s.role === 'customer').map((s) => s.sessionId);
  }

  get localSessionCount(): number {
    return new Set([...this.local.values()].map((s) => s.sessionId)).size;
  }

  /**
   * After the channel was down, a takeover request may have been missed: every local stream whose
   * attendance row is gone (replaced by another stream, or released with this instance's lease)
   * is displaced now.
   */
  private async displaceReplaced(): Promise<void> {
    const ids = [...this.local].filter(([, local]) => local.recorded).map(([id]) => id);
    if (ids.length === 0) return;
    const { rows } = await this.pool.query<{ stream_id: string }>('SELECT stream_id FROM attendance WHERE stream_id = ANY($1)', [ids]);
    const attached = new Set(rows.map((row) => row.stream_id));
    for (const id of ids) if (!attached.has(id)) this.local.get(id)?.stream.displace();
  }

  /**
   * Records the stream as the session's one for `role` and `userId`, and displaces the one it
   * replaces, wherever it is. True if no other user of that role was attached.
   */
  private async attach(sessionId: string, role: Role, userId: string, stream: AttachedStream): Promise<boolean> {
    const local: LocalStream = { sessionId, role, stream, recorded: false };
    this.local.set(stream.id, local);
    const attached = await unlessUnavailable(() =>
      inTransaction(this.pool, async (client) => {
        const pk = await lockSession(client, sessionId);
        if (pk === undefined) return [];
        const { rows } = await client.query<{ user_id: string; stream_id: string; instance_id: string }>(
          'SELECT user_id, stream_id, instance_id FROM attendance WHERE session_pk = $1 AND role = $2',
          [pk, role],
        );
        await client.query(
          `INSERT INTO attendance (session_pk, role, user_id, stream_id, instance_id) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (session_pk, role, user_id) DO UPDATE SET stream_id = EXCLUDED.stream_id, instance_id = EXCLUDED.instance_id`,
          [pk, role, userId, stream.id, this.instanceId],
        );
        return rows;
      }),
    ).catch((error: unknown) => {
      this.local.delete(stream.id);
      throw error;
    });
    local.recorded = true;
    const first = attached.every((row) => row.user_id === userId);
    const previous = attached.find((row) => row.user_id === userId);
    if (!previous || previous.stream_id === stream.id) return first;
    if (previous.instance_id === this.instanceId) this.local.get(previous.stream_id)?.stream.displace();
    else this.channel.send({ t: 'displace', i: previous.instance_id, s: previous.stream_id } satisfies DisplaceMessage);
    return first;
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
