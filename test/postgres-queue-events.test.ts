import pg from 'pg';
import { PostgresQueueEvents } from '../src/bus/postgres-queue-events';
import { PostgresChannel } from '../src/storage/postgres/postgres-channel';
import { connectionConfig, createPool } from '../src/storage/postgres/postgres-connection';
import { describeQueueEventsContract } from './contracts/queue-events-contract';
import { describeWithPostgres, freshSchema } from './helpers/postgres';
import { waitFor } from './helpers/wait';

describeWithPostgres('PostgreSQL queue events', () => {
  describeQueueEventsContract('PostgreSQL LISTEN/NOTIFY, two instances', async () => {
    const schema = await freshSchema();
    const location = { url: schema.url, schema: schema.schema };
    const parts = await Promise.all(
      ['instance-0', 'instance-1'].map(async (instanceId) => {
        const pool = createPool(location, 2);
        const channel = new PostgresChannel(location, pool, (error) => {
          throw error;
        });
        await channel.open();
                return { pool, channel, events: new PostgresQueueEvents(instanceId, channel, () => {}) };
      }),
    );
    return {
      instances: parts.map((p) => p.events),
      cutOff: async (i) => {
        const { channel } = parts[i]!;
        // The channel's listening connection is private to it: its backend's pid is read from the client.
        const listenerPid = (channel as unknown as { listener: pg.Client & { processID: number } }).listener.processID;
        const admin = new pg.Client(connectionConfig(location));
        await admin.connect();
        try {
          const { rows } = await admin.query<{ ended: boolean }>('SELECT pg_terminate_backend($1) AS ended', [listenerPid]);
          expect(rows[0]!.ended).toBe(true);
        } finally {
          await admin.end();
        }
        await waitFor(() => !channel.live, 5000, 'the channel to notice');
        await waitFor(() => channel.live, 10_000, 'the channel to listen again');
      },
      close: async () => {
        for (const { channel, pool } of parts) {
          await channel.close();
          await pool.end();
        }
        await schema.drop();
      },
    };
  });

  test("another instance's events with a gap in their numbers (a notification it could not send) tell the watchers that events were missed", async () => {
    const schema = await freshSchema();
    const location = { url: schema.url, schema: schema.schema };
    const pool = createPool(location, 2);
    const channel = new PostgresChannel(location, pool, (error) => {
      throw error;
    });
    await channel.open();
    const events = new PostgresQueueEvents('watching', channel, () => {});
    let missed = 0;
    const seen: string[] = [];
    const stop = await events.watch({ onEvent: (e) => seen.push(e.sessionId), onMissed: () => missed++ });
    try {
      // What another instance sends, its numbers 1, 2, then 4: its third was lost.
      for (const n of [1, 2, 4]) channel.send({ t: 'queue', i: 'other', n, q: ['waiting', `s${n}`, 'joe', 1_700_000_000_000] });
      await waitFor(() => seen.length === 3, 5000, 'the three events');
      expect(seen).toEqual(['s1', 's2', 's4']);
      expect(missed).toBe(1);
    } finally {
      stop();
      await channel.close();
      await pool.end();
      await schema.drop();
    }
  });
});
