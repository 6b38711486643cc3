import { expect } from '@jest/globals';
// SPEC §6: each limit has an environment variable as well as a flag. The built server, started with
// its limits set through SUPPORT_* variables alone (no flags), enforces them: every limit of §6 is
// set to a value whose effect the default would not have, and that effect is checked. Two processes,
// since some limits get in each other's way (a rate limit slows a flood; an idle timeout ends the
// sessions of customers that leave).
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import type { SupportClient } from '../gen/support';
import { AgentStream, CustomerStream, describeAgentResponse } from './helpers/chat-client';
import { agentTexts, ownConnection } from './helpers/robustness-monitor';
import { logRecords, spawnServer, waitForListening, type ServerProcess } from './helpers/server-process';
import { makeTempDir, removeTempDir } from './helpers/test-server';
import { waitFor } from './helpers/wait';

let dir: string;
const servers: ServerProcess[] = [];
let clients: SupportClient[] = [];

beforeAll(() => {
  dir = makeTempDir('support-env-');
});

afterEach(() => {
  clients.forEach((c) => c.close());
  clients = [];
});

afterAll(async () => {
  for (const server of servers) {
    if (server.exitCode() === undefined) server.child.kill('SIGKILL');
    await server.exited;
  }
  removeTempDir(dir);
});

/** The built server with `env` as its only configuration besides port and database. */
async function serveWith(name: string, env: Record<string, string>): Promise<{ server: ServerProcess; address: string }> {
  const server = spawnServer(['--port', '0', '--db', path.join(dir, `${name}.db`)], { cwd: dir, env });
  servers.push(server);
  return { server, address: `127.0.0.1:${await waitForListening(server)}` };
}

/** A client on an HTTP/2 connection of its own, closed after the test. */
function connection(address: string): SupportClient {
  const client = ownConnection(address);
  clients.push(client);
  return client;
}

test('message, history, session, join and stream limits set through SUPPORT_* variables are enforced', async () => {
  const { address } = await serveWith('a', {
    SUPPORT_MAX_MESSAGE_BYTES: '100',
    SUPPORT_MAX_HISTORY_BYTES: '250',
    SUPPORT_MAX_HISTORY_ENTRIES: '3',
    SUPPORT_MAX_OPEN_SESSIONS: '2',
    SUPPORT_MAX_JOINS_PER_MINUTE: '4',
    SUPPORT_MAX_STREAMS_PER_USER: '2',
  });
  const c = connection(address);

  // --max-message-bytes 100: 100 bytes go through, 101 end the stream.
  const mia = new CustomerStream(c, 'mia');
  const miaSession = await mia.init();
  const miaAgent = new AgentStream(c, 'agent-mia');
  await miaAgent.accept(miaSession.sessionId);
  mia.send('m'.repeat(100));
  expect(describeAgentResponse(await miaAgent.next())).toBe(`customer: ${'m'.repeat(100)}`);
  mia.send('m'.repeat(101));
  expect(await mia.endCode()).toBe(status.INVALID_ARGUMENT);

  // --max-history-entries 3: the fourth entry, however small, is refused.
  const ent = new CustomerStream(c, 'ent');
  await ent.init();
  for (const text of ['1', '2', '3', '4']) ent.send(text);
  expect(await ent.ended()).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/holds 3 entries/) });

  // --max-history-bytes 250: two entries of 100 bytes fit (~115 bytes each, encoded), a third does not.
  const byt = new CustomerStream(c, 'byt');
  await byt.init();
  for (let i = 0; i < 3; i++) byt.send(`${i}`.repeat(100));
  expect(await byt.ended()).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/would pass 250 bytes/) });

  // --max-open-sessions 2: a third init{} is refused (one stream at a time, each half-closed).
  for (let i = 0; i < 2; i++) {
    const olga = new CustomerStream(c, 'olga');
    await olga.init();
    olga.end();
    expect(await olga.endCode()).toBe(status.OK);
  }
  const thirdSession = new CustomerStream(c, 'olga');
  thirdSession.sendInit();
  expect(await thirdSession.ended()).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/2 open sessions/) });

  // --max-joins-per-minute 4: a new session and three resumes, then the fifth join is refused.
  const first = new CustomerStream(c, 'jo');
  const joSession = await first.init();
  first.end();
  await first.ended();
  for (let i = 0; i < 3; i++) {
    const again = new CustomerStream(c, 'jo');
    await again.init(joSession.sessionId);
    again.end();
    await again.ended();
  }
  const fifth = new CustomerStream(c, 'jo');
  fifth.sendInit(joSession.sessionId);
  expect(await fifth.ended()).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/more than 4 joins/) });

  // --max-streams-per-user 2: a third concurrent stream ends before any request.
  const sams = [new CustomerStream(c, 'sam'), new CustomerStream(c, 'sam')];
  for (const sam of sams) await sam.init();
  const thirdStream = new CustomerStream(c, 'sam');
  expect(await thirdStream.ended()).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/too many streams/) });

}, 30_000);

test('queue, buffer, connection, stream-per-connection and idle limits set through SUPPORT_* variables are enforced', async () => {
  const { server, address } = await serveWith('b', {
    SUPPORT_MAX_MESSAGES_PER_SECOND: '0',
    SUPPORT_STREAM_QUEUE: '50',
    SUPPORT_MAX_BUFFERED_BYTES: '327680',
    SUPPORT_MAX_CONNECTIONS: '5',
    SUPPORT_MAX_STREAMS_PER_CONNECTION: '3',
    SUPPORT_IDLE_TIMEOUT_SECONDS: '1',
  });
  const [s1, t1, s2, t2] = [0, 1, 2, 3].map(() => connection(address)) as [SupportClient, SupportClient, SupportClient, SupportClient];

  // --idle-timeout-seconds 1: a session its customer left is ended (checked at the end).
  const leaving = new CustomerStream(s1, 'idle-joe');
  const idleSession = await leaving.init();
  const idleAgent = new AgentStream(s1, 'agent-idle');
  await idleAgent.accept(idleSession.sessionId);
  leaving.end();
  expect(await leaving.endCode()).toBe(status.OK);

  /** A customer, a reading agent and (on `stalledOn`, its own connection) an agent that stopped reading, after `count` messages. */
  async function flood(tag: string, on: SupportClient, stalledOn: SupportClient, count: number, text: string) {
    const customer = new CustomerStream(on, `flood-${tag}`);
    const { sessionId } = await customer.init();
    const stalled = new AgentStream(stalledOn, `agent-stalled-${tag}`);
    await stalled.accept(sessionId);
    stalled.call.pause();
    const reader = new AgentStream(on, `agent-reader-${tag}`);
    await reader.accept(sessionId);
    // Paced on the reader (at most 5 ahead), so that only the stalled agent holds much.
    for (let i = 0; i < count; i++) {
      await waitFor(() => agentTexts(reader).length >= i - 5 || reader.status !== undefined, 10_000, `the reader of ${tag} to keep up`);
      customer.send(`${i} ${text}`);
    }
    await waitFor(() => agentTexts(reader).length === count || reader.status !== undefined, 20_000, `the reader of ${tag} to get everything`);
    expect(reader.status).toBeUndefined();
    stalled.call.resume();
    return (await stalled.ended(10_000)).details;
  }

  // --stream-queue 50: 600 small messages overflow a stalled agent's queue (the default, 1024, holds them).
  expect(await flood('queue', s1, t1, 600, 'q'.repeat(500))).toMatch(/reads too slowly/);
  // --max-buffered-bytes 320 KiB: 60 messages of 8 KB pass it before the queue of 50 (400 KB) is full.
  expect(await flood('budget', s2, t2, 200, 'b'.repeat(8000))).toMatch(/too many responses for slow clients/);

  // --max-streams-per-connection 3: on a fifth connection, a fourth stream waits for one of three to end.
  const fifth = connection(address);
  const three = ['pc-0', 'pc-1', 'pc-2'].map((user) => new CustomerStream(fifth, user));
  for (const stream of three) await stream.init();
  const waiting = new CustomerStream(fifth, 'pc-3');
  waiting.sendInit();
  await new CustomerStream(s2, 'barrier').init(); // by the time this is served, pc-3 would have been too
  expect(waiting.responses).toEqual([]);
  expect(logRecords(server).filter((r) => r.msg === 'stream started' && r.user === 'pc-3')).toEqual([]);
  three[0]!.end();
  expect((await waiting.next()).resp?.$case).toBe('session');

  // --max-connections 5: a sixth connection is refused.
  const sixth = new CustomerStream(connection(address), 'six');
  sixth.sendInit();
  expect(await sixth.endCode()).toBe(status.UNAVAILABLE);

  expect(describeAgentResponse(await idleAgent.next(10_000))).toBe('session ended');
}, 30_000);

test('the rate limit and burst set through SUPPORT_* variables are enforced', async () => {
  const { address } = await serveWith('c', { SUPPORT_MAX_MESSAGES_PER_SECOND: '20', SUPPORT_MESSAGE_BURST: '5' });
  const c = connection(address);
  // --max-messages-per-second 20 and --message-burst 5: the burst (less the init's token) goes at
  // once, the other 20 at 20 a second: about a second (the defaults, 50 and 100, would take no time).
  const rita = new CustomerStream(c, 'rita');
  const ritaSession = await rita.init();
  const ritaAgent = new AgentStream(c, 'agent-rita');
  await ritaAgent.accept(ritaSession.sessionId);
  const sentAt = performance.now();
  for (let i = 0; i < 24; i++) rita.send(`r${i}`);
  await ritaAgent.take(24, 10_000);
  expect(performance.now() - sentAt).toBeGreaterThanOrEqual(900);
}, 30_000);
