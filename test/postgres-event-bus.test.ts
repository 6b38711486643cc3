import { PostgresEventBus } from '../src/bus/postgres-event-bus';
import { encodedHistoryEntrySize } from '../src/transport/history-entry-size';
import type { SessionEvent } from '../src/domain/event-bus';
import { PostgresChannel } from '../src/storage/postgres/postgres-channel';
import { createPool } from '../src/storage/postgres/postgres-connection';
import { PostgresSessionStore } from '../src/storage/postgres/postgres-session-store';
import { describeEventBusContract } from './contracts/event-bus-contract';
import { describeWithPostgres, migratedPool } from './helpers/postgres';

const NO_LIMITS = { maxBytes: 2 ** 40, maxEntries: 2 ** 40 };

describeWithPostgres('PostgreSQL event bus', () => {
  describeEventBusContract('PostgreSQL LISTEN/NOTIFY', async () => {
    const { pool, schema, close } = await migratedPool();
    const location = { url: schema.url, schema: schema.schema };
    const store = new PostgresSessionStore(pool);
    const parts = await Promise.all(
      ['instance-0', 'instance-1'].map(async (instanceId) => {
        const instancePool = createPool(location, 2);
        const channel = new PostgresChannel(location, instancePool, (error) => {
          throw error;
        });
        await channel.open();
        return { instancePool, channel, bus: new PostgresEventBus(instanceId, instancePool, channel, () => {}) };
      }),
    );
    return {
      instances: parts.map((p) => p.bus),
      createSession: (sessionId) => store.createSession(sessionId, 'joe', new Date(), 10),
      commitEntry: async (sessionId, text, origin): Promise<SessionEvent> => {
        const author = { kind: 'customer' } as const;
        const draft = { author, text, origin, encodedSize: (date: Date) => encodedHistoryEntrySize(date, author, text) };
        const entry = await store.appendEntry(sessionId, draft, new Date(), NO_LIMITS);
        return { kind: 'entry', sessionId, seq: entry.seq, entry, origin };
      },
      commitEnd: async (sessionId): Promise<SessionEvent> => ({ kind: 'ended', sessionId, seq: (await store.endSession(sessionId, new Date())).lastSeq + 1 }),
      close: async () => {
        for (const { bus, channel, instancePool } of parts) {
          bus.close();
          await channel.close();
          await instancePool.end();
        }
        await close();
      },
    };
  });
});
