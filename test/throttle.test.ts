import * as grpc from '@grpc/grpc-js';
import { AgentStream, connect, CustomerStream } from './helpers/chat-client';
import { useServerPerTest, type TestServer } from './helpers/test-server';
import { waitFor } from './helpers/wait';

const RATE = 20;
const BURST = 10;
let server: TestServer;
useServerPerTest((s) => (server = s), ['--max-messages-per-second', String(RATE), '--message-burst', String(BURST)]);

/** A customer and an agent attached to one new session, each on a connection of its own. */
async function chat(name: string): Promise<{ customer: CustomerStream; agent: AgentStream; close: () => void }> {
  const clients = [connect(server.address, { ownConnection: true }), connect(server.address, { ownConnection: true })];
  const customer = new CustomerStream(clients[0]!, name);
  const { sessionId } = await customer.init();
  const agent = new AgentStream(clients[1]!, `agent-${name}`);
  await agent.accept(sessionId);
  return { customer, agent, close: () => clients.forEach((c) => c.close()) };
}

test('a flooding stream is slowed to --max-messages-per-second after its burst, not cut off; another session keeps its latency', async () => {
  const flood = await chat('flooder');
  const calm = await chat('calm');
  const total = 60;
  const startedAt = performance.now();
  for (let i = 0; i < total; i++) flood.customer.send(`flood ${i}`);

  // While the flood is being throttled, the calm session's messages go through at once.
  const latencies: number[] = [];
  for (let i = 0; i < 5; i++) {
    const sentAt = performance.now();
    calm.customer.send(`calm ${i}`);
    await calm.agent.take(1);
    latencies.push(performance.now() - sentAt);
  }
  const floodDeliveredMeanwhile = flood.agent.unread().length;

  await waitFor(() => flood.agent.unread().length === total, 15_000, 'every flooded message');
  const elapsedMs = performance.now() - startedAt;
  // After the burst, (total - BURST) messages at RATE per second: 2.5 s. Allow timer slack below.
  expect(elapsedMs).toBeGreaterThanOrEqual(((total - BURST) / RATE) * 1000 * 0.9);
  expect(floodDeliveredMeanwhile).toBeLessThan(total);
  expect(Math.max(...latencies)).toBeLessThan(1000);
  // Slowed, not cut off: every message, in order, and the stream still open.
  const texts = flood.agent.unread().map((r) => (r.resp?.$case === 'msg' && r.resp.value.entry?.$case === 'customerMsg' ? r.resp.value.entry.value : ''));
  expect(texts).toEqual(Array.from({ length: total }, (_, i) => `flood ${i}`));
  expect(flood.customer.status).toBeUndefined();
  flood.customer.end();
  expect(await flood.customer.endCode()).toBe(grpc.status.OK);
  flood.close();
  calm.close();
});

test('a stream that ends while it waits for the throttle ends at once and leaves nothing behind', async () => {
  const flood = await chat('quitter');
  for (let i = 0; i < 40; i++) flood.customer.send(`m ${i}`);
  await flood.agent.take(BURST - 2); // init and accept used two tokens of each stream's burst
  flood.customer.cancel();
  expect(await flood.customer.endCode()).toBe(grpc.status.CANCELLED);
  flood.agent.end();
  await flood.agent.endCode();
  await waitFor(() => server.liveState().calls === 0, 5000, 'every call to be released');
  // Fewer than all 40 were taken: the rest were never read, let alone committed.
  expect(flood.agent.unread().length).toBeLessThan(40);
  flood.close();
});

test('the throttle pushes back through HTTP/2 flow control: a flood stays in the sender, not in the server', async () => {
  const flood = await chat('pusher');
  const total = 2000;
  const text = 'x'.repeat(4096);
  for (let i = 0; i < total; i++) flood.customer.send(`${i} ${text}`);
  await flood.agent.take(BURST, 10_000);
  // A second at RATE per second: an unthrottled server would have read the whole flood by then.
  const observedUntil = Date.now() + 1000;
  await waitFor(() => Date.now() >= observedUntil, 5000, 'a second of flooding');
  // grpc-js counts queued messages in writableLength: most of them (all but about one HTTP/2 window,
  // ~1 MB here) are still in the client, because the server reads no more than the throttle lets through.
  expect(flood.customer.call.writableLength).toBeGreaterThan((total * 3) / 4);
  expect(flood.agent.unread().length).toBeLessThan(2 * RATE);
  expect(flood.customer.status).toBeUndefined();
  flood.customer.cancel();
  flood.close();
});
