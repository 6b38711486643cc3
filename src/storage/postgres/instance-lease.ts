import os from 'node:os';
import type pg from 'pg';
import { inTransaction, queueTime } from './postgres-queries';

/**
 * An instance's lease (SPEC §8): its row in `instances`, renewed every third of the lease. An
 * instance whose lease has expired is dead for the others: any instance's sweep (every half
 * lease) releases it, in one transaction and exactly once (SKIP LOCKED): its attendance rows go,
 * each session left without an agent rejoins the queue at its end (in order of creation), and its
 * customers' presence counts as a detach at the lease's expiry. A stopping instance releases its
 * own lease the same way. An instance that finds its lease gone (it stalled, or lost the
 * database, past the lease) is told through `onLost`: its streams are no longer attached.
 * Lease times are the database's clock, never an instance's. The sessions a release put back in
 * the queue are told to `onRequeued` once it has committed (the admin service's WatchQueue).
 */
export class InstanceLease {
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly pool: pg.Pool,
    readonly instanceId: string,
    private readonly leaseSeconds: number,
    private readonly onLost: () => void,
    private readonly reportError: (error: unknown) => void,
    private readonly onRequeued: (sessions: readonly RequeuedSession[]) => void = () => {},
  ) {}

  /** Registers the instance and starts renewing its lease and sweeping dead ones. */
  async start(): Promise<void> {
    await this.register();
    const every = (ms: number, work: () => Promise<unknown>) => {
      const timer = setInterval(() => void work().catch(this.reportError), ms);
      timer.unref();
      this.timers.push(timer);
    };
    every((this.leaseSeconds * 1000) / 3, () => this.renew());
    every((this.leaseSeconds * 1000) / 2, () => this.sweep());
    await this.sweep();
  }

  /** Stops the timers and releases this instance's lease, as a dead instance's is (see above). */
  async release(): Promise<void> {
    this.stopTimers();
    this.announce(await releaseInstances(this.pool, 'id = $1', [this.instanceId]));
  }

  stopTimers(): void {
    this.timers.forEach(clearInterval);
    this.timers = [];
  }

  private async register(): Promise<void> {
    await this.pool.query(
      "INSERT INTO instances (id, host, pid, started_at, lease_expires_at) VALUES ($1, $2, $3, now(), now() + $4 * interval '1 second')",
      [this.instanceId, os.hostname(), process.pid, this.leaseSeconds],
    );
  }

  /** Renews the lease; one found released (this instance was taken for dead) is reported, then taken again. */
  private async renew(): Promise<void> {
    const { rowCount } = await this.pool.query("UPDATE instances SET lease_expires_at = now() + $2 * interval '1 second' WHERE id = $1", [
      this.instanceId,
      this.leaseSeconds,
    ]);
    if (rowCount !== 0) return;
    this.onLost();
    await this.register();
  }

  /** Releases every instance whose lease has expired; how many. */
  async sweep(): Promise<number> {
    const { released, requeued } = await releaseInstances(this.pool, 'lease_expires_at < now()', []);
    this.announce({ requeued });
    return released;
  }

  private announce({ requeued }: { requeued: RequeuedSession[] }): void {
    if (requeued.length > 0) this.onRequeued(requeued);
  }
}

/** A session back in the queue because the agents it had were on a released instance. */
export type RequeuedSession = Readonly<{ id: string; customerId: string }>;

/** Releases the instances `condition` picks (see InstanceLease), each by one caller only; how many, and the sessions back in the queue. */
async function releaseInstances(pool: pg.Pool, condition: string, parameters: unknown[]): Promise<{ released: number; requeued: RequeuedSession[] }> {
  return inTransaction(pool, async (client) => {
    const { rows: dead } = await client.query<{ id: string; expired_ms: string }>(
      `SELECT id, (extract(epoch FROM LEAST(lease_expires_at, now())) * 1000)::bigint AS expired_ms FROM instances WHERE ${condition} FOR UPDATE SKIP LOCKED`,
      parameters,
    );
    const requeued: RequeuedSession[] = [];
    for (const { id, expired_ms: expiredMs } of dead) {
      const { rows: gone } = await client.query<{ session_pk: string; role: string }>('DELETE FROM attendance WHERE instance_id = $1 RETURNING session_pk, role', [id]);
      const leftByAgents = [...new Set(gone.filter((row) => row.role === 'agent').map((row) => row.session_pk))];
      const leftByCustomer = gone.filter((row) => row.role === 'customer').map((row) => row.session_pk);
      const { rows: back } = await client.query<{ id: string; customer: string }>(
        `UPDATE sessions SET awaiting_since = ${queueTime('$2')}
          WHERE pk = ANY($1::bigint[]) AND state = 'open' AND awaiting_since IS NULL
            AND NOT EXISTS (SELECT 1 FROM attendance a WHERE a.session_pk = sessions.pk AND a.role = 'agent')
          RETURNING id, customer`,
        [leftByAgents, expiredMs],
      );
      requeued.push(...back.map((row) => ({ id: row.id, customerId: row.customer })));
      await client.query("UPDATE sessions SET last_activity_at = GREATEST(last_activity_at, $2) WHERE pk = ANY($1::bigint[]) AND state = 'open'", [leftByCustomer, expiredMs]);
      await client.query('DELETE FROM instances WHERE id = $1', [id]);
    }
    return { released: dead.length, requeued };
  });
}
