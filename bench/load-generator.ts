import * as grpc from '@grpc/grpc-js';
import { SupportClient, type ChatAgentRequest, type ChatAgentResponse, type ChatCustomerRequest, type ChatCustomerResponse } from '../gen/support';
import { DirectionStats, type DeliveryCounts } from './direction-stats';

/** How the two sides of each session send. */
export type LoadMode =
  | { kind: 'ping-pong' } // one message in flight per direction per session
  | { kind: 'pipelined'; window: number } // up to `window` in flight per direction per session
  | { kind: 'fixed-rate'; perSecond: number }; // each direction of each session, whatever is in flight

export type LoadOptions = Readonly<{
  sessions: number;
  mode: LoadMode;
  warmupMs: number;
  durationMs: number;
  connectionsPerRole: number;
  /** Text length of each message (sequence number and send time included). */
  messageBytes: number;
}>;

export type LoadResult = DeliveryCounts &
  Readonly<{ delivered: number; seconds: number; latencyMs: { p50: number; p99: number; max: number } }>;

type Side = {
  stats: DirectionStats; // what this side sends, as received by the other side
  send: (text: string) => void;
};

/** Where the clients connect: one server, or the customers to one and the agents to another (instances of one deployment). */
export type LoadTarget = string | Readonly<{ customers: string; agents: string }>;

/**
 * Sets up `sessions` sessions (a customer and an agent stream each, over a few shared connections
 * per role), has both sides send for a fixed time, and reports what was delivered. `onWindow` is
 * called at the start and the end of the measured window (for the server's CPU and memory).
 */
export async function runLoad(target: LoadTarget, options: LoadOptions, onWindow: (edge: 'start' | 'end') => void): Promise<LoadResult> {
  const customers = clients(typeof target === 'string' ? target : target.customers, options.connectionsPerRole);
  const agents = clients(typeof target === 'string' ? target : target.agents, options.connectionsPerRole);
  const sessions = await Promise.all(Array.from({ length: options.sessions }, (_, i) => openSession(i, customers[i % customers.length]!, agents[i % agents.length]!)));

  let sending = true;
  let measuring = false;
  const pad = (text: string) => text.padEnd(options.messageBytes, '.');
  const sendNext = (side: Side) => side.send(pad(side.stats.nextMessage(measuring)));
  const canSend = (side: Side) =>
    options.mode.kind === 'ping-pong' ? side.stats.inFlight() === 0 : options.mode.kind === 'pipelined' ? side.stats.inFlight() < options.mode.window : false;
  const refill = (side: Side) => {
    while (sending && canSend(side)) sendNext(side);
  };
  for (const session of sessions) {
    for (const side of [session.toAgent, session.toCustomer]) {
      side.stats.onDelivered = () => refill(side);
      refill(side);
    }
  }
  const ticker = options.mode.kind === 'fixed-rate' ? startFixedRate(sessions.flatMap((s) => [s.toAgent, s.toCustomer]), options.mode.perSecond, sendNext, () => sending) : undefined;

  await delay(options.warmupMs);
  const stats = sessions.flatMap((s) => [s.toAgent.stats, s.toCustomer.stats]);
  stats.forEach((s) => s.startWindow());
  measuring = true;
  onWindow('start');
  const started = performance.now();
  await delay(options.durationMs);
  onWindow('end');
  const seconds = (performance.now() - started) / 1000;
  measuring = false;
  const delivered = stats.reduce((sum, s) => sum + s.deliveredInWindow(), 0);
  sending = false;
  if (ticker) clearInterval(ticker);
  await waitUntil(() => stats.every((s) => s.inFlight() === 0), 10_000); // late ones count as lost after this

  for (const session of sessions) session.close();
  [...customers, ...agents].forEach((c) => c.close());
  return { delivered, seconds, latencyMs: DirectionStats.latencyPercentiles(stats), ...DirectionStats.totals(stats) };
}

function clients(address: string, count: number): SupportClient[] {
  // A distinct option per client gives each its own connection (grpc-js shares them otherwise).
  return Array.from({ length: count }, (_, i) => new SupportClient(address, grpc.credentials.createInsecure(), { 'bench.connection': i, 'grpc.use_local_subchannel_pool': 1 }));
}

function metadataFor(user: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `token ${user}`);
  return metadata;
}

async function openSession(i: number, customerClient: SupportClient, agentClient: SupportClient) {
  const customer: grpc.ClientDuplexStream<ChatCustomerRequest, ChatCustomerResponse> = customerClient.chatCustomer(metadataFor(`bench-customer-${i}`));
  const agent: grpc.ClientDuplexStream<ChatAgentRequest, ChatAgentResponse> = agentClient.chatAgent(metadataFor(`agent-bench-${i}`));
  for (const call of [customer, agent]) {
    call.on('error', () => {});
    // A stream that ends before the run does is a fault of the run: say so, rather than count loss only.
    call.on('status', (status: grpc.StatusObject) => {
      if (status.code !== grpc.status.CANCELLED) console.error(`bench: a stream of session ${i} ended early: ${grpc.status[status.code]} ${status.details}`);
    });
  }
  customer.write({ req: { $case: 'init', value: { resumeSessionId: '' } } });
  const sessionId = await firstResponse(customer, (r) => (r.resp?.$case === 'session' ? r.resp.value.sessionId : undefined));
  agent.write({ req: { $case: 'accept', value: { sessionId } } });
  await firstResponse(agent, (r) => (r.resp?.$case === 'acceptedSession' ? r.resp.value.sessionId : undefined));

  const toAgent: Side = { stats: new DirectionStats(), send: (text) => customer.write({ req: { $case: 'msg', value: text } }) };
  const toCustomer: Side = { stats: new DirectionStats(), send: (text) => agent.write({ req: { $case: 'msg', value: text } }) };
  agent.on('data', (r: ChatAgentResponse) => {
    if (r.resp?.$case === 'msg' && r.resp.value.entry?.$case === 'customerMsg') toAgent.stats.received(r.resp.value.entry.value);
  });
  customer.on('data', (r: ChatCustomerResponse) => {
    if (r.resp?.$case === 'msg') toCustomer.stats.received(r.resp.value.msg);
  });
  return { toAgent, toCustomer, close: () => [customer, agent].forEach((call) => call.cancel()) };
}

function firstResponse<Q, R, T>(call: grpc.ClientDuplexStream<Q, R>, pick: (response: R) => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const onData = (response: R) => {
      const value = pick(response);
      if (value !== undefined) {
        call.off('data', onData);
        resolve(value);
      }
    };
    call.on('data', onData);
    call.once('status', (status: grpc.StatusObject) => reject(new Error(`stream ended: ${status.details}`)));
  });
}

function startFixedRate(sides: Side[], perSecond: number, sendNext: (side: Side) => void, sending: () => boolean): NodeJS.Timeout {
  const started = performance.now();
  let sentPerSide = 0;
  return setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * perSecond);
    for (; sending() && sentPerSide < due; sentPerSide++) sides.forEach(sendNext);
  }, 5);
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await delay(10);
}
