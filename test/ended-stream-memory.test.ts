import { status } from '@grpc/grpc-js';
import type { SupportClient } from '../gen/support';
import { AgentStream, connect, CustomerStream, describeCustomerResponse } from './helpers/chat-client';
import { DEFAULT_TUNING } from '../src/server/server';
import { startTestServer, type TestServer } from './helpers/test-server';
import { waitFor } from './helpers/wait';

// SPEC §6: a stream the server has ended (overflow, takeover, shutdown) frees its own queue at
// once; only what its transport already holds waits, and a client that still reads nothing is
// reset after 30 s (shortened here), freeing everything.

const RESET_AFTER_END_MS = 1_500;
let server: TestServer;
let clients: SupportClient[] = [];

beforeEach(async () => {
  server = await startTestServer(['--max-messages-per-second', '0'], undefined, { resetAfterEndMs: RESET_AFTER_END_MS });
});

afterEach(async () => {
  clients.forEach((c) => c.close());
  clients = [];
  await server.stop();
});

function client(): SupportClient {
  const c = connect(server.address, { ownConnection: true });
  clients.push(c);
  return c;
}

/** A session where agent-stalled stopped reading and has ~`messages` KB of entries waiting for it. */
async function stalledAgentWithBacklog(messages: number) {
  const customer = new CustomerStream(client(), 'joe');
  const { sessionId } = await customer.init();
  const stalled = new AgentStream(client(), 'agent-stalled');
  await stalled.accept(sessionId);
  stalled.call.pause();
  const reader = new AgentStream(client(), 'agent-reader');
  await reader.accept(sessionId);
  for (let i = 0; i < messages; i++) customer.send(`${i} ${'q'.repeat(1000)}`);
  await reader.take(messages, 20_000); // every entry was committed and pushed to both agents
  return { customer, sessionId, stalled, reader };
}

test('an agent stream taken over frees its queue at once; the rest goes when it is reset, and it detaches', async () => {
  const { sessionId, stalled } = await stalledAgentWithBacklog(600);
  const heldBefore = server.liveState().bufferedBytes;
  expect(heldBefore).toBeGreaterThan(400_000); // far more than the HTTP/2 window and write buffer

  const callsBeforeTakeover = server.liveState().calls; // the customer, the stalled agent, the reader
  const successor = new AgentStream(client(), 'agent-stalled');
  const takeoverAt = performance.now();
  await successor.accept(sessionId); // the takeover has happened once this reply is here
  const heldAfterTakeover = server.liveState().bufferedBytes;
  expect(heldAfterTakeover).toBeLessThan(200_000); // what the transport took before the client stopped reading

  // Reset once the delay has passed, not before: until then what the transport holds may still reach a client that reads again.
  // The successor came, the stalled stream goes.
  await waitFor(() => server.liveState().calls === callsBeforeTakeover, RESET_AFTER_END_MS + 5_000, 'the stalled stream to be reset');
  expect(performance.now() - takeoverAt).toBeGreaterThanOrEqual(RESET_AFTER_END_MS * 0.9);
  expect(server.liveState().bufferedBytes).toBeLessThan(50_000); // the successor and the reader read everything
  stalled.call.resume();
  expect([status.CANCELLED, status.ABORTED, status.INTERNAL]).toContain(await stalled.endCode());
});

test('a stream cut for overflow frees its queue at once and detaches like leave_session: with no agent left, its session rejoins the queue', async () => {
  await server.stop();
  server = await startTestServer(['--max-messages-per-second', '0', '--stream-queue', '100'], undefined, { resetAfterEndMs: RESET_AFTER_END_MS });
  const { sessionId, stalled, reader } = await stalledAgentWithBacklog(400); // past its queue of 100: cut
  expect(server.liveState().bufferedBytes).toBeLessThan(200_000); // what its transport took, not 100 queued entries
  reader.leave(); // the last agent attached, if the cut one was detached
  const taken = await acceptNext();
  expect(taken).toBe(sessionId);
  stalled.call.resume();
  expect(await stalled.endCode(RESET_AFTER_END_MS + 10_000)).not.toBe(status.OK);
});

test('unless a test shortens it, the server waits the 30 s of SPEC §6 before it resets an ended stream that reads nothing', () => {
  expect(DEFAULT_TUNING).toEqual({ resetAfterEndMs: 30_000 });
});

/** accept{} on new streams until one gets a session (the leave before it may not be handled yet); its id. */
async function acceptNext(): Promise<string> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const agent = new AgentStream(client(), 'agent-next');
    agent.sendAccept();
    const first = await agent.next().catch(() => undefined);
    if (first?.resp?.$case === 'acceptedSession') return first.resp.value.sessionId;
    if (Date.now() > deadline) throw new Error(`no session came back to the queue (last: ${agent.status?.details})`);
  }
}

test('a customer stream cut for overflow frees its queue at once, is reset after the delay, and its session stays open: the customer resumes and finds everything', async () => {
  await server.stop();
  server = await startTestServer(['--max-messages-per-second', '0', '--stream-queue', '100'], undefined, { resetAfterEndMs: RESET_AFTER_END_MS });
  const customer = new CustomerStream(client(), 'joe');
  const { sessionId } = await customer.init();
  customer.call.pause(); // stops reading
  const agent = new AgentStream(client(), 'agent-a');
  await agent.accept(sessionId);
  const watcher = new AgentStream(client(), 'agent-watch'); // gets every entry as it is committed
  await watcher.accept(sessionId);
  const MESSAGES = 300; // x 4 KB: far past the customer's queue of 100
  const floodAt = performance.now();
  for (let i = 0; i < MESSAGES; i++) agent.send(`${i} ${'q'.repeat(4000)}`);
  await watcher.take(MESSAGES, 20_000);
  // Cut, and its ~100 queued responses (400 KB) dropped at once: only what its transport took is left.
  expect(server.liveState().bufferedBytes).toBeLessThan(200_000);

  await waitFor(() => server.liveState().calls === 2, RESET_AFTER_END_MS + 5_000, 'the stalled customer stream to be reset'); // the two agents are left
  expect(performance.now() - floodAt).toBeGreaterThanOrEqual(RESET_AFTER_END_MS * 0.9);
  expect(agent.status).toBeUndefined();

  const resumed = new CustomerStream(client(), 'joe');
  expect((await resumed.init(sessionId)).history).toHaveLength(MESSAGES);
  agent.send('still here');
  expect(describeCustomerResponse(await resumed.next())).toBe('agent-a: still here');
  customer.call.resume();
  expect(await customer.endCode(5_000)).not.toBe(status.OK);
});
