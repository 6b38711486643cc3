import path from 'node:path';
import { status } from '@grpc/grpc-js';
import type { SupportClient } from '../gen/support';
import { AgentStream, connect, CustomerStream, describeAgentResponse, describeCustomerResponse, describeHistory } from './helpers/chat-client';
import { spawnServer, waitForListening, type ServerProcess } from './helpers/server-process';
import { makeTempDir, removeTempDir } from './helpers/test-server';
import { waitFor } from './helpers/wait';

const SESSIONS = 6;
let dir: string;
let server: ServerProcess | undefined;

beforeEach(() => {
  dir = makeTempDir();
});

afterEach(async () => {
  if (server && server.exitCode() === undefined) server.child.kill('SIGKILL');
  await server?.exited;
  removeTempDir(dir);
});

/** Clients here send as fast as they can: the per-stream rate limit (made for human chat) is off. */
async function start(flags: string[] = []): Promise<string> {
  server = spawnServer(['--port', '0', '--db', path.join(dir, 'support.db'), '--max-messages-per-second', '0', ...flags]);
  return `127.0.0.1:${await waitForListening(server)}`;
}

type Party = { customer: CustomerStream; agent: AgentStream; sessionId: string; hungUp: boolean };

/** Both sides of every session send, one message each per round, until the server is killed. */
async function chatUntilKilled(parties: Party[], isKilled: () => boolean): Promise<void> {
  for (let round = 0; !isKilled() && round < 100_000; round++) {
    for (const [i, party] of parties.entries()) {
      if (party.hungUp) continue;
      party.customer.send(`c${i}-${round}`);
      party.agent.send(`a${i}-${round}`);
      // Every so often a customer hangs up, so that "ended" is tested under the crash as well.
      if (round === 20 + i * 15 && i % 2 === 0) {
        party.customer.hangUp();
        party.hungUp = true;
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test.each([1, 2, 3, 4])('kill -9 under traffic (run %i): everything any client received, and every end any agent saw, survives', async () => {
  const address = await start();
  const client: SupportClient = connect(address);
  const parties: Party[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const customer = new CustomerStream(client, `customer-${i}`);
    const { sessionId } = await customer.init();
    const agent = new AgentStream(client, `agent-${i}`);
    await agent.accept(sessionId);
    parties.push({ customer, agent, sessionId, hungUp: false });
  }

  const killAfterMs = 100 + Math.floor(Math.random() * 900);
  let killed = false;
  const traffic = chatUntilKilled(parties, () => killed);
  await new Promise((resolve) => setTimeout(resolve, killAfterMs)); // the random moment of the crash is the point here
  server!.child.kill('SIGKILL');
  killed = true;
  await server!.exited;
  await traffic;
  // What each client had received when the server died.
  const seen = parties.map((p) => ({
    byAgent: p.agent.responses.map(describeAgentResponse).filter((d) => !d.startsWith('{')),
    byCustomer: p.customer.responses.map(describeCustomerResponse).filter((d) => !d.startsWith('{')),
  }));
  client.close();
  expect(seen.flatMap((s) => [...s.byAgent, ...s.byCustomer]).length).toBeGreaterThan(SESSIONS); // traffic did flow

  const restarted = connect(await start());
  for (const [i, party] of parties.entries()) {
    const sawEnd = seen[i]!.byAgent.includes('session ended');
    const customer = new CustomerStream(restarted, `customer-${i}`);
    customer.sendInit(party.sessionId);
    const first = await customer.next().catch(() => undefined);
    if (first?.resp?.$case !== 'session') {
      // Ended: allowed only for a session whose customer hung up; required when an agent saw it end.
      expect(await customer.endCode()).toBe(status.FAILED_PRECONDITION);
      expect(party.hungUp).toBe(true);
      continue;
    }
    expect(sawEnd).toBe(false);
    const history = describeHistory(first.resp.value);
    for (const line of seen[i]!.byAgent) expect(history).toContain(line);
    for (const line of seen[i]!.byCustomer) expect(history).toContain(line);
    // Each sender's messages are stored in the order sent, without gaps.
    for (const prefix of [`customer: c${i}-`, `agent-${i}: a${i}-`]) {
      const rounds = history.filter((l) => l.startsWith(prefix)).map((l) => Number(l.slice(prefix.length)));
      expect(rounds).toEqual(rounds.map((_, k) => k));
    }
    customer.cancel();
  }
  // Open sessions are back in the queue and can be accepted.
  const openCount = parties.length - parties.filter((p) => p.hungUp).length;
  const agent = new AgentStream(restarted, 'agent-after');
  const accepted = await agent.accept();
  expect(parties.map((p) => p.sessionId)).toContain(accepted.sessionId);
  expect(openCount).toBeGreaterThan(0);
  restarted.close();
}, 60_000);

test('after kill -9, a session whose customer was attached but silent counts as idle from about the crash, not from its last entry', async () => {
  // Sweeps (which record attached customers as present) run every quarter of the timeout: 1.5 s. The
  // margin (timeout minus one sweep) leaves a slow restart on a busy machine 4.5 s.
  const IDLE_SECONDS = 6;
  const flags = ['--idle-timeout-seconds', String(IDLE_SECONDS)];
  let client = connect(await start(flags), { ownConnection: true });
  const customer = new CustomerStream(client, 'quiet-joe');
  const { sessionId } = await customer.init();
  customer.send('one question, then I read quietly');
  // Attached, silent, for longer than the idle timeout: an attached customer is never idle.
  const attachedUntil = Date.now() + (IDLE_SECONDS + 2) * 1000;
  await waitFor(() => Date.now() >= attachedUntil, 15_000, 'the customer to stay attached past the timeout');
  server!.child.kill('SIGKILL');
  await server!.exited;
  client.close();

  // Its last entry is 8 s old, but the customer was there at most 1.5 s before the crash.
  client = connect(await start(flags), { ownConnection: true });
  const resumed = new CustomerStream(client, 'quiet-joe');
  expect((await resumed.init(sessionId)).history).toHaveLength(1);
  // An agent watches (agents do not count as activity); the customer leaves, and the timeout runs from then.
  const agent = new AgentStream(client, 'agent-watch');
  await agent.accept(sessionId);
  resumed.end();
  expect(await resumed.endCode()).toBe(status.OK);
  const detachedAt = Date.now();
  const ended = await agent.next(20_000);
  expect(ended.resp?.$case).toBe('sessionEnded');
  expect(Date.now() - detachedAt).toBeGreaterThanOrEqual((IDLE_SECONDS - 1) * 1000);
  client.close();
}, 40_000);
