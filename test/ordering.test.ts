// SPEC §5 (ordering, delivery) and the queue rules of §2/§4 under concurrency.
import { status } from '@grpc/grpc-js';
import type { ChatEntry } from '../gen/support';
import { AgentStream, CustomerStream } from './helpers/chat-client';
import {
  acceptedSessions,
  authorOf,
  createSessions,
  customerSessions,
  entryText,
  entryWithDate,
  historyViaNewAgent,
  liveAgentMessages,
  liveEntries,
  nextTurn,
} from './helpers/ordering-helpers';
import { connectionsOf, useServerWithClients, type TestServer } from './helpers/test-server';
import { waitFor } from './helpers/wait';

let server: TestServer;
/** A new client on an HTTP/2 connection of its own, closed after the test: concurrency across connections. */
const newClient = useServerWithClients((started) => (server = started), ['--max-open-sessions', '1000', '--stream-queue', '100000'], { ownConnections: true });

function expectNonDecreasingDates(history: readonly ChatEntry[]): void {
  const times = history.map((entry) => entry.date?.getTime() ?? Number.NaN);
  expect(times.every((t) => Number.isFinite(t))).toBe(true);
  const decreasing = times.flatMap((t, i) => (i > 0 && t < times[i - 1]! ? [`entry ${i}: ${times[i - 1]} -> ${t}`] : []));
  expect(decreasing).toEqual([]);
}

/** The texts `author` wrote, in history order. */
function textsBy(history: readonly ChatEntry[], author: string): string[] {
  return history.filter((entry) => authorOf(entry) === author).map(entryText);
}

test('concurrent senders: every receiver gets every other party\'s entries exactly once, none of its own, in history order', async () => {
  const count = 200;
  const customer = new CustomerStream(newClient(), 'cust');
  const session = await customer.init();
  const agentIds = ['agent-a', 'agent-b', 'agent-c'];
  const agents = agentIds.map((id) => new AgentStream(newClient(), id));
  for (const agent of agents) expect((await agent.accept(session.sessionId)).history).toEqual([]);
  expect(connectionsOf(server, ['cust', ...agentIds])).toBe(4);

  // All four send at once, interleaved request by request, each on its own connection.
  for (let i = 0; i < count; i++) {
    customer.send(`c-${i}`);
    for (const agent of agents) agent.send(`${agent.user}-${i}`);
  }

  const othersCount = 3 * count;
  const customerGot = (await customer.take(othersCount, 20_000)).map((r) => liveAgentMessages([r])[0] ?? JSON.stringify(r));
  const agentsGot = await Promise.all(agents.map(async (agent) => (await agent.take(othersCount, 20_000)).map((r) => liveEntries([r])[0]!)));

  const history = (await historyViaNewAgent(newClient(), session.sessionId, 'agent-d')).history;
  expect(history).toHaveLength(4 * count);
  const sent = (prefix: string) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  expect(textsBy(history, 'customer')).toEqual(sent('c').map((t) => `customer: ${t}`));
  for (const id of agentIds) expect(textsBy(history, id)).toEqual(sent(id).map((t) => `${id}: ${t}`));
  expectNonDecreasingDates(history);

  // The customer: exactly the agents' entries, in history order.
  expect(customerGot).toEqual(history.filter((e) => authorOf(e) !== 'customer').map(entryText));
  // Each agent: everything but its own entries, in history order, with the history's dates.
  agents.forEach((agent, i) => {
    expect(agentsGot[i]!.map((e) => (e ? entryWithDate(e) : 'not a msg'))).toEqual(
      history.filter((e) => authorOf(e) !== agent.user).map(entryWithDate),
    );
  });
  // Nothing more arrived (no duplicates after the expected ones), and every stream is still open.
  expect(customer.unread()).toEqual([]);
  for (const agent of agents) expect(agent.unread()).toEqual([]);
  expect(customer.status).toBeUndefined();
  for (const agent of agents) expect(agent.status).toBeUndefined();
}, 60_000);

/**
 * Sends `${prefix}-0`, `${prefix}-1`, ... on whatever stream `target()` returns, one per turn of the
 * event loop, until `moreAfterTrigger` were sent after `triggered()` became true. Returns the texts
 * sent. Gives up after `timeoutMs` (a failed round must not leave it spinning).
 */
async function pump(
  target: () => { send: (text: string) => void; ended: boolean } | undefined,
  prefix: string,
  triggered: () => boolean,
  moreAfterTrigger: number,
  max = 2000,
  timeoutMs = 20_000,
): Promise<string[]> {
  const sent: string[] = [];
  let afterTrigger = 0;
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; afterTrigger < moreAfterTrigger; ) {
    if (i >= max) throw new Error(`${prefix}: sent ${max} messages and the trigger did not happen`);
    if (Date.now() > deadline) throw new Error(`${prefix}: no stream to send on for ${timeoutMs} ms`);
    const stream = target();
    if (stream && !stream.ended) {
      const text = `${prefix}-${i++}`;
      stream.send(text);
      sent.push(text);
      if (triggered()) afterTrigger++;
    }
    await nextTurn();
  }
  return sent;
}

test('accept and resume while others send: reply history plus live pushes equal the final history, no gap, no duplicate (20 rounds)', async () => {
  const customerClient1 = newClient();
  const customerClient2 = newClient();
  const agentClientA = newClient();
  const agentClientB = newClient();
  const readerClient = newClient();
  const c1EndCodes: string[] = [];
  let c1StatusMissing = false;

  for (let round = 0; round < 20; round++) {
    const customerId = `cust-${round}`;
    const c1 = new CustomerStream(customerClient1, customerId);
    const session = await c1.init();
    const a = new AgentStream(agentClientA, 'agent-a');
    expect((await a.accept(session.sessionId)).history).toEqual([]);
    const c2 = new CustomerStream(customerClient2, customerId);
    const b = new AgentStream(agentClientB, 'agent-b');

    let c2Connected = false;
    const joined = () => acceptedSessions(b.responses).length > 0 && customerSessions(c2.responses).length > 0;
    // The customer sends on c1 until c2 has its session reply, then on c2 (what a reconnecting app does).
    const sentOnC1: string[] = [];
    const sentOnC2: string[] = [];
    const customerTarget = () =>
      !c2Connected
        ? { send: (t: string) => (c1.send(t), sentOnC1.push(t)), ended: c1.status !== undefined }
        : { send: (t: string) => (c2.send(t), sentOnC2.push(t)), ended: c2.status !== undefined };
    const customerPump = pump(customerTarget, 'c', joined, 15);
    const agentPump = pump(() => ({ send: (t: string) => a.send(t), ended: a.status !== undefined }), `agent-a-r${round}`, joined, 15);

    // Mid-stream: agent-b accepts and a new customer stream resumes, at the same moment.
    await waitFor(() => liveEntries(a.responses).length >= 5 && liveAgentMessages(c1.responses).length >= 5, 10_000, 'the first messages');
    b.sendAccept(session.sessionId);
    c2.sendInit(session.sessionId);
    await waitFor(() => joined() || b.status !== undefined || c2.status !== undefined, 10_000, 'the accept and resume replies');
    expect(b.status).toBeUndefined();
    expect(c2.status).toBeUndefined();
    if (round === 0) expect(connectionsOf(server, [customerId, 'agent-a', 'agent-b'])).toBe(4); // c1, c2, a and b
    c2Connected = true;
    const bSent: string[] = [];
    for (let i = 0; i < 5; i++) {
      bSent.push(`agent-b-r${round}-${i}`);
      b.send(bSent[i]!);
    }

    const customerSent = await customerPump;
    const agentSent = await agentPump;

    // Wait until every party's last message reached the others: then all is committed.
    const lastOf = (sent: string[]) => sent[sent.length - 1]!;
    const lastCustomer = `customer: ${lastOf(customerSent)}`;
    const lastA = `agent-a: ${lastOf(agentSent)}`;
    const lastB = `agent-b: ${lastOf(bSent)}`;
    const agentGot = (s: AgentStream, text: string) => liveEntries(s.responses).some((e) => entryText(e) === text);
    await waitFor(
      () => agentGot(a, lastCustomer) && agentGot(a, lastB) && agentGot(b, lastCustomer) && agentGot(b, lastA) &&
        liveAgentMessages(c2.responses).includes(lastA) && liveAgentMessages(c2.responses).includes(lastB),
      15_000,
      `round ${round}: the last messages`,
    );

    const history = (await historyViaNewAgent(readerClient, session.sessionId, 'agent-reader')).history;
    expectNonDecreasingDates(history);
    // Each sender's entries in send order: the customer's are a prefix of what c1 sent, then all c2 sent.
    // (c1's messages after the takeover are lost with it; the customer resends nothing in this test.)
    const customerTexts = textsBy(history, 'customer');
    const committedOnC1 = Math.max(0, customerTexts.length - sentOnC2.length);
    expect(customerTexts).toEqual([...sentOnC1.slice(0, committedOnC1), ...sentOnC2].map((t) => `customer: ${t}`));
    expect(textsBy(history, 'agent-a')).toEqual(agentSent.map((t) => `agent-a: ${t}`));
    expect(textsBy(history, 'agent-b')).toEqual(bSent.map((t) => `agent-b: ${t}`));

    // agent-b: accepted_session history + live = final history minus its own entries.
    const bSession = acceptedSessions(b.responses)[0]!;
    expect(b.responses[0]!.resp?.$case).toBe('acceptedSession');
    expect([...bSession.history, ...liveEntries(b.responses)].map(entryWithDate)).toEqual(
      history.filter((e) => authorOf(e) !== 'agent-b').map(entryWithDate),
    );
    // c2: session history's agent entries + live = final history's agent entries.
    const c2Session = customerSessions(c2.responses)[0]!;
    expect(c2.responses[0]!.resp?.$case).toBe('session');
    expect(c2Session.history.map(entryText)).toEqual(history.slice(0, c2Session.history.length).map(entryText));
    expect([...c2Session.history.filter((e) => authorOf(e) !== 'customer').map(entryText), ...liveAgentMessages(c2.responses)]).toEqual(
      history.filter((e) => authorOf(e) !== 'customer').map(entryText),
    );
    // agent-a (there from the start): everything but its own; c1: a prefix of the agents' entries.
    expect(liveEntries(a.responses).map(entryWithDate)).toEqual(history.filter((e) => authorOf(e) !== 'agent-a').map(entryWithDate));
    const agentEntries = history.filter((e) => authorOf(e) !== 'customer').map(entryText);
    const c1Got = liveAgentMessages(c1.responses);
    expect(c1Got).toEqual(agentEntries.slice(0, c1Got.length));

    // The old customer stream was taken over: it ends with ABORTED (checked after all rounds; once
    // a status failed to come, later rounds do not wait for it again).
    if (!c1StatusMissing) await waitFor(() => c1.status !== undefined, 3_000, 'c1 status').catch(() => (c1StatusMissing = true));
    c1EndCodes.push(c1.status ? status[c1.status.code] : 'no status');
    if (!c1.status) c1.cancel();

    c2.hangUp();
    await waitFor(() => [a, b].every((s) => s.responses.some((r) => r.resp?.$case === 'sessionEnded')), 10_000, 'session_ended');
    for (const s of [c2, a, b]) s.end();
    for (const s of [c2, a, b]) expect(await s.endCode()).toBe(status.OK);
  }
  expect(c1EndCodes).toEqual(Array(20).fill('ABORTED'));
}, 90_000);

test('30 agents calling accept{} at once on 30 awaiting sessions get 30 distinct sessions; one more accept{} fails with FAILED_PRECONDITION', async () => {
  const { ids } = await createSessions(newClient(), 30);
  const agentClients = [newClient(), newClient(), newClient()];
  const agents = Array.from({ length: 30 }, (_, i) => new AgentStream(agentClients[i % 3]!, `agent-${i}`));
  for (const agent of agents) agent.sendAccept();
  const accepted = await Promise.all(agents.map((agent) => agent.next(20_000)));
  expect(connectionsOf(server, agents.map((a) => a.user))).toBe(3);
  const got = accepted.map((r) => (r.resp?.$case === 'acceptedSession' ? r.resp.value.sessionId : JSON.stringify(r)));
  expect(new Set(got).size).toBe(30);
  expect([...got].sort()).toEqual([...ids].sort());

  const late = new AgentStream(newClient(), 'agent-late');
  late.sendAccept();
  expect(await late.endCode()).toBe(status.FAILED_PRECONDITION);
  expect(late.responses).toEqual([]);
  for (const agent of agents) expect(agent.status).toBeUndefined();
}, 60_000);

test('40 agents racing accept{} for 30 awaiting sessions: exactly 30 get distinct sessions, 10 get FAILED_PRECONDITION', async () => {
  const { ids } = await createSessions(newClient(), 30);
  const agentClients = [newClient(), newClient(), newClient(), newClient()];
  const agents = Array.from({ length: 40 }, (_, i) => new AgentStream(agentClients[i % 4]!, `agent-${i}`));
  for (const agent of agents) agent.sendAccept();
  await waitFor(() => agents.every((a) => a.responses.length > 0 || a.status !== undefined), 20_000, 'every accept to be answered');

  expect(connectionsOf(server, agents.map((a) => a.user))).toBe(4);
  const winners = agents.filter((a) => a.responses.length > 0);
  const losers = agents.filter((a) => a.responses.length === 0);
  expect(winners).toHaveLength(30);
  const got = winners.map((a) => acceptedSessions(a.responses)[0]?.sessionId ?? JSON.stringify(a.responses));
  expect([...got].sort()).toEqual([...ids].sort());
  for (const winner of winners) expect(winner.status).toBeUndefined();
  expect(losers.map((a) => a.status?.code)).toEqual(Array(10).fill(status.FAILED_PRECONDITION));
}, 60_000);

test('the date of an entry an agent receives live equals, to the millisecond, its date in a later history', async () => {
  const client = newClient();
  const before = Date.now();
  const customer = new CustomerStream(client, 'dana');
  const session = await customer.init();
  const agentA = new AgentStream(client, 'agent-a');
  const agentB = new AgentStream(client, 'agent-b');
  await agentA.accept(session.sessionId);
  await agentB.accept(session.sessionId);

  // Several rounds with a round trip each, so that the entries span several milliseconds.
  const live: ChatEntry[] = [];
  for (let round = 0; round < 10; round++) {
    customer.send(`question ${round}`);
    agentB.send(`answer ${round}`);
    live.push(...liveEntries(await agentA.take(2)));
    await customer.next();
  }
  const after = Date.now();

  const history = (await historyViaNewAgent(client, session.sessionId, 'agent-c')).history;
  expect(history.map(entryText)).toEqual(live.map(entryText));
  expect(history.map((e) => e.date?.getTime())).toEqual(live.map((e) => e.date?.getTime()));
  expect(live.map((e) => entryText(e)).sort()).toEqual(
    Array.from({ length: 10 }, (_, i) => [`customer: question ${i}`, `agent-b: answer ${i}`]).flat().sort(),
  );
  // Server times of this test's run, with millisecond precision, never decreasing.
  for (const entry of live) {
    expect(entry.date!.getTime()).toBeGreaterThanOrEqual(before);
    expect(entry.date!.getTime()).toBeLessThanOrEqual(after);
  }
  expect(live.some((e) => e.date!.getTime() % 1000 !== 0)).toBe(true);
  expectNonDecreasingDates(history);
});
