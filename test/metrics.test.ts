// Issue 15, metrics: the built server, started with --metrics-port 0, serves GET /metrics in the
// Prometheus text format (parsed here by a real parser), and its metrics move with the traffic.
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { SupportClient } from '../gen/support';
import { parseConfig } from '../src/config/config';
import { createJsonLogger } from '../src/log/logger';
import { startServer } from '../src/server/server';
import { AgentStream, connect, CustomerStream, describeAgentResponse, describeCustomerResponse } from './helpers/chat-client';
import { histogramCount, sampleValue, scrape, scrapeUntil } from './helpers/prometheus-scrape';
import { spawnServer, waitForListening, type ServerProcess } from './helpers/server-process';
import { makeTempDir, removeTempDir } from './helpers/test-server';

/** Every metric issue 15 asks for, by name. */
const SUPPORT_METRICS = [
  'support_streams_live',
  'support_sessions_open',
  'support_queue_length',
  'support_queue_oldest_wait_seconds',
  'support_entries_committed_total',
  'support_delivery_latency_seconds',
  'support_store_commit_batch_size',
  'support_store_commit_duration_seconds',
  'support_calls_ended_total',
  'support_auth_failures_total',
  'support_requests_throttled_total',
  'support_streams_cut_total',
  'support_idle_sessions_ended_total',
  'support_database_size_bytes',
  'support_retention_deleted_sessions_total',
  'support_retention_deleted_entries_total',
];

let dir: string;
let server: ServerProcess;
let client: SupportClient;
let metricsUrl: string;

beforeAll(async () => {
  dir = makeTempDir('support-metrics-');
  server = spawnServer(['--port', '0', '--db', path.join(dir, 'support.db'), '--metrics-port', '0'], { cwd: dir });
  client = connect(`127.0.0.1:${await waitForListening(server)}`);
  const line = server.stdout.find((l) => l.includes('metrics on http://'));
  metricsUrl = /metrics on (http:\/\/[^"]+)/.exec(line ?? '')?.[1] ?? '';
  expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
});

afterAll(async () => {
  client?.close();
  if (server.exitCode() === undefined) server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
  removeTempDir(dir);
});

test('GET /metrics is valid Prometheus text: every metric of the issue with its help, and the Node.js and process metrics', async () => {
  const result = await scrape(metricsUrl);
  for (const name of SUPPORT_METRICS) {
    expect({ name, help: (result.families.get(name)?.help.length ?? 0) > 10 }).toEqual({ name, help: true });
  }
  for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds']) {
    expect({ name, present: result.families.has(name) }).toEqual({ name, present: true });
  }
  expect(result.families.get('support_delivery_latency_seconds')?.type).toBe('HISTOGRAM');
  expect(sampleValue(result, 'support_database_size_bytes')).toBeGreaterThan(0);
  expect((await fetch(metricsUrl.replace('/metrics', '/other'))).status).toBe(404);
});

test('messages move the counters, the delivery histogram, the live streams and the queue; no label names a user, session or text', async () => {
  const before = await scrape(metricsUrl);
  const customer = new CustomerStream(client, 'rita-metrics');
  const session = await customer.init();
  const waiting = await scrapeUntil(metricsUrl, (r) => sampleValue(r, 'support_queue_length') === 1, 'the session in the queue');
  expect(sampleValue(waiting, 'support_sessions_open', { state: 'awaiting' })).toBe(1);
  expect(sampleValue(waiting, 'support_streams_live', { role: 'customer' })).toBe(1);

  const agent = new AgentStream(client, 'agent-metrics');
  await agent.accept();
  for (let i = 0; i < 3; i++) customer.send(`distinctive metrics text ${i}`);
  for (let i = 0; i < 3; i++) expect(describeAgentResponse(await agent.next())).toBe(`customer: distinctive metrics text ${i}`);
  agent.send('distinctive agent reply');
  expect(describeCustomerResponse(await customer.next())).toBe('agent-metrics: distinctive agent reply');

  const after = await scrapeUntil(
    metricsUrl,
    (r) => sampleValue(r, 'support_sessions_open', { state: 'attended' }) === 1 && sampleValue(r, 'support_queue_length') === 0,
    'the session attended',
  );
  const committed = (r: typeof after, author: string) => sampleValue(r, 'support_entries_committed_total', { author });
  expect(committed(after, 'customer') - committed(before, 'customer')).toBe(3);
  expect(committed(after, 'agent') - committed(before, 'agent')).toBe(1);
  expect(histogramCount(after, 'support_delivery_latency_seconds') - histogramCount(before, 'support_delivery_latency_seconds')).toBe(4);
  expect(histogramCount(after, 'support_store_commit_batch_size')).toBeGreaterThan(histogramCount(before, 'support_store_commit_batch_size'));
  expect(sampleValue(after, 'support_streams_live', { role: 'agent' })).toBe(1);

  customer.hangUp();
  customer.end();
  agent.end();
  await Promise.all([customer.ended(), agent.ended()]);
  const ended = await scrapeUntil(metricsUrl, (r) => sampleValue(r, 'support_streams_live') === 0, 'the streams to end');
  expect(sampleValue(ended, 'support_calls_ended_total', { method: '/Support/ChatCustomer', code: 'OK' })).toBeGreaterThanOrEqual(1);
  for (const secret of ['rita-metrics', 'agent-metrics', session.sessionId, 'distinctive']) expect(ended.text).not.toContain(secret);
});

test('a call with a bad token counts as an authentication failure', async () => {
  const before = await scrape(metricsUrl);
  const stranger = new CustomerStream(client, 'x', new grpc.Metadata());
  expect(await stranger.endCode()).toBe(grpc.status.UNAUTHENTICATED);
  const after = await scrapeUntil(metricsUrl, (r) => sampleValue(r, 'support_auth_failures_total') > sampleValue(before, 'support_auth_failures_total'), 'an auth failure');
  expect(sampleValue(after, 'support_auth_failures_total', { reason: 'malformed demo token' }) - sampleValue(before, 'support_auth_failures_total', { reason: 'malformed demo token' })).toBe(1);
});

test('shutdown closes the metrics port', async () => {
  const here = makeTempDir('support-metrics-close-');
  const config = parseConfig(['--port', '0', '--db', path.join(here, 'support.db'), '--metrics-port', '0'], {});
  const running = await startServer(config, createJsonLogger(() => {}));
  const url = `http://127.0.0.1:${running.metricsPort}/metrics`;
  expect((await scrape(url)).families.has('support_streams_live')).toBe(true);
  await running.shutdown();
  await expect(fetch(url)).rejects.toThrow();
  removeTempDir(here);
});

test('a takeover, a throttled request and a session ended idle are counted', async () => {
  const here = makeTempDir('support-metrics-events-');
  const flags = ['--port', '0', '--db', path.join(here, 'support.db'), '--metrics-port', '0', '--max-messages-per-second', '2', '--message-burst', '1', '--idle-timeout-seconds', '1'];
  const running = await startServer(parseConfig(flags, {}), createJsonLogger(() => {}));
  const url = `http://127.0.0.1:${running.metricsPort}/metrics`;
  const local = connect(`127.0.0.1:${running.port}`);
  try {
    const first = new CustomerStream(local, 'tess');
    const { sessionId } = await first.init();
    const second = new CustomerStream(local, 'tess');
    await second.init(sessionId);
    expect(await first.endCode()).toBe(grpc.status.ABORTED);
    for (let i = 0; i < 3; i++) second.send(`burst ${i}`);
    second.end();
    await second.ended();
    const after = await scrapeUntil(url, (r) => sampleValue(r, 'support_idle_sessions_ended_total') === 1, 'the session ended idle');
    expect(sampleValue(after, 'support_streams_cut_total', { reason: 'takeover' })).toBe(1);
    expect(sampleValue(after, 'support_streams_cut_total', { reason: 'overflow' })).toBe(0);
    expect(sampleValue(after, 'support_requests_throttled_total')).toBeGreaterThanOrEqual(1);
  } finally {
    local.close();
    await running.shutdown();
    removeTempDir(here);
  }
});
