import { status } from '@grpc/grpc-js';
import type { SupportClient } from '../gen/support';
import { AgentStream, connect, CustomerStream } from './helpers/chat-client';
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

  const successor = new AgentStream(client(), 'agent-stalled');
  await successor.accept(sessionId); // the takeover has happened once this reply is here
  const heldAfterTakeover = server.liveState().bufferedBytes;
  expect(heldAfterTakeover).toBeLessThan(200_000); // what the transport took before the client stopped reading

  const callsBefore = server.liveState().calls;
  await waitFor(() => server.liveState().calls === callsBefore - 1, RESET_AFTER_END_MS + 5_000, 'the stalled stream to be reset');
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
