// Issue 15, retention: a server with --retention-days 1 whose clock is two days ahead deletes the
// sessions that have ended (resuming one gives NOT_FOUND), keeps the open ones, and counts what
// it deleted in its metrics.
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import type { SupportClient } from '../gen/support';
import { parseConfig } from '../src/config/config';
import { createJsonLogger } from '../src/log/logger';
import { RETENTION_PACE } from '../src/server/retention-job';
import { startServer, type RunningServer } from '../src/server/server';
import { connect, CustomerStream } from './helpers/chat-client';
import { sampleValue, scrapeUntil } from './helpers/prometheus-scrape';
import { makeTempDir, removeTempDir } from './helpers/test-server';

const TWO_DAYS_MS = 2 * 24 * 60 * 60 * 1000;

let dir: string;
let running: RunningServer;
let client: SupportClient;
const logs: Record<string, unknown>[] = [];

beforeEach(async () => {
  dir = makeTempDir('support-retention-');
  const config = parseConfig(['--port', '0', '--db', path.join(dir, 'support.db'), '--retention-days', '1', '--metrics-port', '0'], {});
  const retention = { now: () => new Date(Date.now() + TWO_DAYS_MS), everyMs: 100, pace: RETENTION_PACE };
  running = await startServer(config, createJsonLogger((line) => logs.push(JSON.parse(line) as Record<string, unknown>)), { resetAfterEndMs: 30_000, retention });
  client = connect(`127.0.0.1:${running.port}`);
});

afterEach(async () => {
  client.close();
  await running.shutdown();
  removeTempDir(dir);
});

test('ended sessions go with their entries, open ones stay, and the metrics count what went', async () => {
  const leaving = new CustomerStream(client, 'ann');
  const ended = await leaving.init();
  leaving.send('first');
  leaving.send('second');
  leaving.hangUp();
  leaving.end();
  expect(await leaving.endCode()).toBe(status.OK);
  const staying = new CustomerStream(client, 'bob');
  const open = await staying.init();
  staying.send('still here');
  staying.end();
  await staying.ended();

  const metricsUrl = `http://127.0.0.1:${running.metricsPort}/metrics`;
  const after = await scrapeUntil(metricsUrl, (r) => sampleValue(r, 'support_retention_deleted_sessions_total') === 1, 'the ended session to be deleted');
  expect(sampleValue(after, 'support_retention_deleted_entries_total')).toBe(2);

  const resumeEnded = new CustomerStream(client, 'ann');
  resumeEnded.sendInit(ended.sessionId);
  expect(await resumeEnded.endCode()).toBe(status.NOT_FOUND);
  const resumeOpen = new CustomerStream(client, 'bob');
  expect((await resumeOpen.init(open.sessionId)).history).toHaveLength(1);
  resumeOpen.end();
  await resumeOpen.ended();
  expect(logs.find((l) => l.msg === 'retention deleted ended sessions')).toMatchObject({ sessions: 1, entries: 2 });
});
