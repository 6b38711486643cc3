import * as grpc from '@grpc/grpc-js';
import type { SupportClient } from '../gen/support';
import { AgentStream, connect, CustomerStream } from './helpers/chat-client';
import { useServerPerTest, type TestServer } from './helpers/test-server';
import { waitFor } from './helpers/wait';

const RATE = 20;
const BURST = 10;
let server: TestServer;
useServerPerTest((s) => (server = s), ['--max-messages-per-second', String(RATE), '--message-burst', String(BURST)]);

/** A customer and an agent attached to one new session, each on a connection of its own. */
async function chat(name: string): Promise<{ customer: CustomerStream; agent: AgentStream; sessionId: string; clients: SupportClient[]; close: () => void }> {
  const clients = [connect(server.address, { ownConnection: true }), connect(server.address, { ownConnection: true })];
  const customer = new CustomerStream(clients[0]!, name);
  const { sessionId } = await customer.init();
  const agent = new AgentStream(clients[1]!, `agent-${name}`);
  await agent.accept(sessionId);
  return { customer, agent, sessionId, clients, close: () => clients.forEach((c) => c.close()) };
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

test('a stream that ends while it waits for the throttle ends at once: what the server had read ahead is never committed, and nothing is left behind', async () => {
  const flood = await chat('quitter');
  const total = 100;
  for (let i = 0; i < total; i++) flood.customer.send(`m ${i}`);
  await flood.agent.take(BURST - 2); // the burst is spent; from here on the server reads RATE per second
  const receivedAtCancel = customerMessages(flood.agent).length;
  flood.customer.cancel();
  expect(await flood.customer.endCode()).toBe(grpc.status.CANCELLED);
  // A server that went on handling what it had read ahead (up to 16 requests) would commit one of
  // them every 1/RATE s from here. Watched for five of those periods, nothing more arrives beyond
  // what may have been in flight at the cancel: one committed and on its way, and on a busy
  // machine one more whose throttle delay ran out as the cancel was sent.
  const watchUntil = performance.now() + (5 * 1000) / RATE;
  await waitFor(() => performance.now() >= watchUntil || customerMessages(flood.agent).length > receivedAtCancel + 2, 5000, 'the watch window');
  expect(customerMessages(flood.agent).length).toBeLessThanOrEqual(receivedAtCancel + 2);

  // The history holds exactly what the agent received: the throttled rest was never committed.
  const reader = new AgentStream(flood.clients[1]!, 'agent-reader');
  const history = (await reader.accept(flood.sessionId)).history;
  expect(history.map((e) => (e.entry?.$case === 'customerMsg' ? e.entry.value : ''))).toEqual(customerMessages(flood.agent));
  expect(history.length).toBeLessThan(total / 2); // the throttle held most of the flood back

  for (const stream of [flood.agent, reader]) stream.end();
  for (const stream of [flood.agent, reader]) expect(await stream.endCode()).toBe(grpc.status.OK);
  await waitFor(() => server.liveState().calls === 0, 5000, 'every call to be released');
  expect(server.liveState()).toEqual({ calls: 0, subscribedSessions: 0, attachedSessions: 0, usersWithStreams: 0, bufferedBytes: 0 });
  flood.close();
});

test('the throttle pushes back through HTTP/2 flow control: a flood stays in the sender, not in the server', async () => {
  const flood = await chat('pusher');
  const total = 2000;
  const text = 'x'.repeat(4096);
  const startedAt = performance.now();
  for (let i = 0; i < total; i++) flood.customer.send(`${i} ${text}`);
  // A second's worth of throttled messages after the burst: the server's clock, not a sleep of ours.
  await waitFor(() => customerMessages(flood.agent).length >= BURST + RATE, 10_000, 'a second of throttled messages');
  const elapsedMs = performance.now() - startedAt;
  const committed = customerMessages(flood.agent).length;
  // grpc-js counts the messages its call has not yet handed to HTTP/2 in writableLength. What the
  // client handed over and is not committed is in the server's read-ahead (16), in transit, or in
  // HTTP/2 buffers within one flow-control window (~1 MB here, 256 of these messages): the rest of
  // the flood waits in the client. A server that read everything and throttled only the handling
  // would hold almost all of the 8 MB.
  const handedOver = total - flood.customer.call.writableLength;
  expect({ handedOverBeyondCommitted: handedOver - committed < 400 ? 'within a window' : handedOver - committed, throttled: elapsedMs >= 900 }).toEqual({
    handedOverBeyondCommitted: 'within a window',
    throttled: true,
  });
  expect(flood.customer.status).toBeUndefined();
  flood.customer.cancel();
  flood.close();
});

/** The customer messages an agent stream received, in order. */
function customerMessages(agent: AgentStream): string[] {
  return agent.responses.flatMap((r) => (r.resp?.$case === 'msg' && r.resp.value.entry?.$case === 'customerMsg' ? [r.resp.value.entry.value] : []));
}
