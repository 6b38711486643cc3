import type pg from 'pg';
import { PostgresEventBus } from '../src/bus/postgres-event-bus';
import { encodedHistoryEntrySize } from '../src/transport/history-entry-size';
import type { Entry } from '../src/domain/entry';
import type { SessionEvent } from '../src/domain/event-bus';
import { PostgresChannel } from '../src/storage/postgres/postgres-channel';
import { createPool } from '../src/storage/postgres/postgres-connection';
import { PostgresSessionStore } from '../src/storage/postgres/postgres-session-store';
import { describeWithPostgres, migratedPool } from './helpers/postgres';
import { waitFor } from './helpers/wait';

const customer = { kind: 'customer' } as const;
const LIMITS = { maxBytes: 2 ** 40, maxEntries: 1_000_000 };
const WRITER_STREAM = 'instance-a/1';

/**
 * Two instances' buses on one schema: A writes and publishes, B's subscriptions receive. A
 * notification "lost" here is an entry committed without being published: B must still get every
 * event, once and in order, from the store (SPEC §8).
 */
async function twoInstances() {
  const { pool, schema, close } = await migratedPool();
  const location = { url: schema.url, schema: schema.schema };
  const poolB = createPool(location, 4);
  const errors: unknown[] = [];
  const report = (error: unknown) => errors.push(error);
  const channelA = new PostgresChannel(location, pool, report);
  const channelB = new PostgresChannel(location, poolB, report);
  await Promise.all([channelA.open(), channelB.open()]);
  const busA = new PostgresEventBus('instance-a', pool, channelA, report);
  const busB = new PostgresEventBus('instance-b', poolB, channelB, report);
  const store = new PostgresSessionStore(pool);
  const received = new Map<string, SessionEvent[]>();
  let sessions = 0;
  return {
    store,
    busA,
    poolB,
    received,
    errors,
    /** A new session that B's instance is subscribed to from its start. */
    async session(): Promise<string> {
      const id = `gap-fill-session-${++sessions}`;
      await store.createSession(id, `customer-${sessions}`, new Date(), 10);
      received.set(id, []);
      const subscription = await busB.subscribe(id, (event) => received.get(id)!.push(event));
      subscription.start(0);
      return id;
    },
    /** Commits an entry; published (notified) only if `publish`. */
    append: async (sessionId: string, text: string, publish: boolean): Promise<Entry> => {
      const draft = { author: customer, text, origin: WRITER_STREAM, encodedSize: (date: Date) => encodedHistoryEntrySize(date, customer, text) };
      const entry = await store.appendEntry(sessionId, draft, new Date(), LIMITS);
      if (publish) busA.publish({ kind: 'entry', sessionId, seq: entry.seq, entry, origin: WRITER_STREAM });
      return entry;
    },
    async close(): Promise<void> {
      busA.close();
      busB.close();
      await Promise.all([channelA.close(), channelB.close()]);
      await poolB.end();
      await close();
    },
  };
}

type Instances = Awaited<ReturnType<typeof twoInstances>>;

const describeEvent = (event: SessionEvent) => (event.kind === 'ended' ? `${event.seq} ended` : `${event.seq} ${event.entry.text}`);

/** How many reads of entries (gap fills) `pool` has run from now on, counted from its `query` calls. */
function countFills(pool: pg.Pool): () => number {
  const spy = jest.spyOn(pool, 'query');
  return () => spy.mock.calls.filter(([sql]) => typeof sql === 'string' && /\bentries\b/.test(sql)).length;
}

describeWithPostgres('PostgreSQL bus: what notifications did not bring is filled from the store', () => {
  let instances: Instances;
  beforeEach(async () => {
    instances = await twoInstances();
  });
  afterEach(async () => {
    await instances.close();
    jest.restoreAllMocks();
  });

  test('gaps in 120 sessions at once: every entry once and in order, read with a few queries rather than one per session', async () => {
    const { append, received, poolB } = instances;
    const sessionIds: string[] = [];
    for (let i = 0; i < 120; i++) sessionIds.push(await instances.session());
    const fills = countFills(poolB);
    // Concurrent appends share transactions, so that B finds all the gaps at about the same time.
    await Promise.all(sessionIds.map((id) => append(id, 'one', false)));
    await Promise.all(sessionIds.map((id) => append(id, 'two', false)));
    await Promise.all(sessionIds.map((id) => append(id, 'three', true)));
    await waitFor(() => sessionIds.every((id) => received.get(id)!.length >= 3), 10_000, 'every session filled');
    for (const id of sessionIds) expect(received.get(id)!.map(describeEvent)).toEqual(['1 one', '2 two', '3 three']);
    expect(fills()).toBeLessThanOrEqual(12); // one query per session would be 120
    expect(instances.errors).toEqual([]);
  });

  test('a session more than a page of entries behind gets them all, in order', async () => {
    const { append, received } = instances;
    const id = await instances.session();
    const texts = Array.from({ length: 1_500 }, (_, i) => `missed ${i + 1}`);
    for (let i = 0; i < texts.length; i += 250) await Promise.all(texts.slice(i, i + 250).map((text) => append(id, text, false)));
    await append(id, 'notified', true);
    await waitFor(() => received.get(id)!.length >= 1_501, 15_000, 'the whole history');
    expect(received.get(id)!.map(describeEvent)).toEqual([...texts, 'notified'].map((text, i) => `${i + 1} ${text}`));
  });

  test('the last entry and the end, whose notifications were lost with nothing after them, arrive through the periodic check', async () => {
    const { append, received, store } = instances;
    const id = await instances.session();
    await append(id, 'notified', true);
    await append(id, 'lost', false);
    await waitFor(() => received.get(id)!.length >= 2, 5_000, 'the lost entry');
    await store.endSession(id, new Date());
    await waitFor(() => received.get(id)!.length >= 3, 5_000, 'the end');
    expect(received.get(id)!.map(describeEvent)).toEqual(['1 notified', '2 lost', '3 ended']);
  });

  test('a session erased while its end was not heard: its subscriptions end, at the event each waits for', async () => {
    const { append, received, poolB } = instances;
    const id = await instances.session();
    await append(id, 'notified', true);
    await waitFor(() => received.get(id)!.length >= 1, 5_000, 'the entry');
    // What the admin service's erasure deletes, with its notification lost.
    for (const table of ['entries', 'participants', 'attendance']) {
      await poolB.query(`DELETE FROM ${table} WHERE session_pk = (SELECT pk FROM sessions WHERE id = $1)`, [id]);
    }
    await poolB.query('DELETE FROM sessions WHERE id = $1', [id]);
    await waitFor(() => received.get(id)!.length >= 2, 5_000, 'the end of the erased session');
    expect(received.get(id)!.map(describeEvent)).toEqual(['1 notified', '2 ended']);
    expect(instances.errors).toEqual([]);
  });
});
