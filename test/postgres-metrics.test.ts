// Issue 15, metrics on PostgreSQL: two instances of one deployment report the same queue (read
// from the shared database), each its own commits and deliveries.
import { parseConfig } from '../src/config/config';
import { createJsonLogger } from '../src/log/logger';
import { startServer, type RunningServer } from '../src/server/server';
import { AgentStream, connect, CustomerStream, describeAgentResponse } from './helpers/chat-client';
import { describeWithPostgres, freshSchema, type TestSchema } from './helpers/postgres';
import { histogramCount, sampleValue, scrape, scrapeUntil } from './helpers/prometheus-scrape';

describeWithPostgres('metrics of a deployment on PostgreSQL', () => {
  let schema: TestSchema;
  let instances: RunningServer[];

  beforeEach(async () => {
    schema = await freshSchema();
    const flags = ['--port', '0', '--store', schema.url, '--pg-schema', schema.schema, '--metrics-port', '0'];
    instances = [];
    for (let i = 0; i < 2; i++) instances.push(await startServer(parseConfig(flags, {}), createJsonLogger(() => {})));
  });

  afterEach(async () => {
    await Promise.all(instances.map((i) => i.shutdown()));
    await schema.drop();
  });

  test('both instances see one queue; the writer counts its commits, the reader its deliveries', async () => {
    const [a, b] = instances.map((i) => ({ client: connect(`127.0.0.1:${i.port}`, { ownConnection: true }), url: `http://127.0.0.1:${i.metricsPort}/metrics` }));
    try {
      const customer = new CustomerStream(a!.client, 'pat');
      const { sessionId } = await customer.init();
      for (const instance of [a!, b!]) await scrapeUntil(instance.url, (r) => sampleValue(r, 'support_queue_length') === 1, 'the queue of one');
      const agent = new AgentStream(b!.client, 'agent-pg');
      await agent.accept(sessionId);
      for (let i = 0; i < 5; i++) customer.send(`pg ${i}`);
      for (let i = 0; i < 5; i++) expect(describeAgentResponse(await agent.next())).toBe(`customer: pg ${i}`);

      const onA = await scrapeUntil(a!.url, (r) => sampleValue(r, 'support_sessions_open', { state: 'attended' }) === 1, 'the session attended, seen from A');
      const onB = await scrapeUntil(b!.url, (r) => sampleValue(r, 'support_sessions_open', { state: 'attended' }) === 1, 'the session attended, seen from B');
      expect(sampleValue(onA, 'support_entries_committed_total', { author: 'customer' })).toBe(5);
      expect(histogramCount(onA, 'support_store_commit_batch_size')).toBeGreaterThanOrEqual(1);
      expect(Number(onA.families.get('support_store_commit_batch_size')?.metrics[0]?.sum)).toBe(5);
      expect(histogramCount(onB, 'support_delivery_latency_seconds')).toBe(5);
      expect(sampleValue(onB, 'support_entries_committed_total')).toBe(0);
      for (const r of [onA, onB]) expect(sampleValue(r, 'support_database_size_bytes')).toBeGreaterThan(0);
      expect(sampleValue(await scrape(b!.url), 'support_streams_live', { role: 'agent' })).toBe(1);
      customer.end();
      agent.end();
      await Promise.all([customer.ended(), agent.ended()]);
    } finally {
      a!.client.close();
      b!.client.close();
    }
  });
});
