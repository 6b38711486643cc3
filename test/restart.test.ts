// SPEC §2 and §5: what survives a server restart (graceful stop, then start on the same database).
import { status } from '@grpc/grpc-js';
import type { ChatEntry, SupportClient } from '../gen/support';
import { AgentStream, CustomerStream, describeCustomerResponse, type RecordedStream } from './helpers/chat-client';
import { createSessions, entryText, entryWithDate, historyViaNewAgent, liveAgentMessages, liveEntries, nextTurn } from './helpers/ordering-helpers';
import { useServerWithClients, type TestServer } from './helpers/test-server';
import { waitFor } from './helpers/wait';

let server: TestServer;
/** A new client on the server's current address, closed after the test. */
const newClient = useServerWithClients((started) => (server = started));

/** Restarts the server; the streams given must all end (their codes are returned, by name). */
async function restart(streams: Pick<RecordedStream<unknown, unknown>, 'endCode'>[] = []): Promise<string[]> {
  await server.restart();
  return Promise.all(streams.map(async (s) => status[await s.endCode(15_000)]));
}

/** Takes sessions from the queue with accept{} on fresh agent streams until it is empty; returns their ids in order. */
async function drainQueue(client: SupportClient, max = 20): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i <= max; i++) {
    const agent = new AgentStream(client, `agent-drain-${i}`);
    agent.sendAccept();
    await waitFor(() => agent.responses.length > 0 || agent.status !== undefined, 10_000, 'the accept reply');
    const reply = agent.responses[0];
    if (!reply) {
      expect(status[agent.status!.code]).toBe('FAILED_PRECONDITION');
      return ids;
    }
    if (reply.resp?.$case !== 'acceptedSession') throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
    ids.push(reply.resp.value.sessionId);
  }
  throw new Error(`the queue still had sessions after ${max}`);
}

test('after a restart the session is back in the queue with its history intact, the customer resumes it, and the chat goes on', async () => {
  const client = newClient();
  const customer = new CustomerStream(client, 'Rita');
  const session = await customer.init();
  const agent = new AgentStream(client, 'agent-a');
  expect((await agent.accept()).sessionId).toBe(session.sessionId);
  customer.send('my card is lost');
  await agent.next();
  agent.send('which card?');
  expect(describeCustomerResponse(await customer.next())).toBe('agent-a: which card?');
  customer.send('the visa one');
  await agent.next();
  const before = await historyViaNewAgent(client, session.sessionId, 'agent-reader');
  expect(before.history.map(entryText)).toEqual(['customer: my card is lost', 'agent-a: which card?', 'customer: the visa one']);

  await restart([customer, agent]);
  const client2 = newClient();

  // The agent-less session is in the queue: accept{} gets it, with the same history (dates too).
  const agentB = new AgentStream(client2, 'agent-b');
  const accepted = await agentB.accept();
  expect(accepted.sessionId).toBe(session.sessionId);
  expect(accepted.customerName).toBe('rita');
  expect(accepted.history.map(entryWithDate)).toEqual(before.history.map(entryWithDate));

  const resumed = new CustomerStream(client2, 'rita');
  const resumedSession = await resumed.init(session.sessionId);
  expect(resumedSession.sessionId).toBe(session.sessionId);
  expect(resumedSession.customerName).toBe('rita');
  expect(resumedSession.history.map(entryWithDate)).toEqual(before.history.map(entryWithDate));

  resumed.send('are you still there?');
  expect(entryText(liveEntries([await agentB.next()])[0]!)).toBe('customer: are you still there?');
  agentB.send('yes, blocking it now');
  expect(describeCustomerResponse(await resumed.next())).toBe('agent-b: yes, blocking it now');

  const after = await historyViaNewAgent(client2, session.sessionId, 'agent-reader');
  expect(after.history.map(entryText)).toEqual([
    'customer: my card is lost',
    'agent-a: which card?',
    'customer: the visa one',
    'customer: are you still there?',
    'agent-b: yes, blocking it now',
  ]);
  expect(after.history.slice(0, 3).map(entryWithDate)).toEqual(before.history.map(entryWithDate));
  const times = after.history.map((e) => e.date!.getTime());
  expect(times).toEqual([...times].sort((x, y) => x - y));
});

test('streams open at a restart end with UNAVAILABLE, connected or not', async () => {
  const client = newClient();
  const customer = new CustomerStream(client, 'sam');
  const session = await customer.init();
  const agent = new AgentStream(client, 'agent-a');
  await agent.accept(session.sessionId);
  customer.send('hello');
  await agent.next();
  const idleAgent = new AgentStream(client, 'agent-idle'); // no request sent
  const idleCustomer = new CustomerStream(client, 'sue'); // no request sent
  // Disconnected again: a customer stream after its hang_up, and the agent stream it ended.
  const hungUp = new CustomerStream(client, 'tom');
  const tomSession = await hungUp.init();
  const endedAgent = new AgentStream(client, 'agent-t');
  await endedAgent.accept(tomSession.sessionId);
  hungUp.hangUp();
  expect((await endedAgent.next()).resp?.$case).toBe('sessionEnded');
  // Wait until the server has started all six calls.
  await waitFor(() => server.logs.filter((l) => l.msg === 'stream started').length === 6, 10_000, 'six started streams');

  expect(await restart([customer, agent, idleAgent, idleCustomer, hungUp, endedAgent])).toEqual(Array(6).fill('UNAVAILABLE'));
});

test('streams receiving messages at the moment of a restart end with UNAVAILABLE, and every entry received is in the history afterwards', async () => {
  const client = newClient();
  const customer = new CustomerStream(client, 'sam');
  const session = await customer.init();
  const agent = new AgentStream(client, 'agent-a');
  await agent.accept(session.sessionId);

  // The agent sends as fast as it can; the customer reads them as they come.
  let sent = 0;
  let stop = false;
  const pump = (async () => {
    while (!stop && agent.status === undefined) {
      agent.send(`m-${sent++}`);
      await nextTurn();
    }
  })();
  await waitFor(() => customer.responses.length >= 20, 10_000, 'the first messages');
  const codes = await restart([customer, agent]);
  stop = true;
  await pump;
  expect(codes).toEqual(['UNAVAILABLE', 'UNAVAILABLE']);

  const received = liveAgentMessages(customer.responses);
  const history = (await historyViaNewAgent(newClient(), session.sessionId)).history.map(entryText);
  // Every message received is in the history, in the same order, as its first entries.
  expect(received).toHaveLength(customer.responses.length - 1); // after the session reply, nothing but the agent's messages
  expect(history.slice(0, received.length)).toEqual(received);
  expect(history).toEqual(Array.from({ length: history.length }, (_, i) => `agent-a: m-${i}`));
});

test('queue order across a restart: awaiting sessions first in their order, then the attended one', async () => {
  const client = newClient();
  const { streams, ids } = await createSessions(client, 4, 'q');
  const [s1, s2, s3, s4] = ids as [string, string, string, string];
  const agent = new AgentStream(client, 'agent-x');
  await agent.accept(s2); // attended, still attached at the restart

  expect(await restart([agent, ...streams])).toEqual(Array(5).fill('UNAVAILABLE'));
  expect(await drainQueue(newClient())).toEqual([s1, s3, s4, s2]);
});

test('queue order across a restart: a session whose agent left waits behind sessions that awaited since earlier', async () => {
  const client = newClient();
  const { streams, ids } = await createSessions(client, 3, 'q');
  const [s1, s2, s3] = ids as [string, string, string];
  const createdBy = Date.now();
  const agent = new AgentStream(client, 'agent-x');
  expect((await agent.accept()).sessionId).toBe(s1);
  // Leave in a later millisecond than S3's creation, so that "last became agent-less" is strictly later.
  await waitFor(() => Date.now() > createdBy, 1_000, 'the next millisecond');
  agent.leave();
  agent.end();
  expect(await agent.endCode()).toBe(status.OK);

  expect(await restart(streams)).toEqual(Array(3).fill('UNAVAILABLE'));
  expect(await drainQueue(newClient())).toEqual([s2, s3, s1]);
});

test('queue order across a restart: attended sessions rejoin in order of creation, not of acceptance', async () => {
  const client = newClient();
  const { streams, ids } = await createSessions(client, 20, 'q');
  // S1 awaits; S2..S20 are accepted in reverse order of creation, by agent streams opened in that order.
  const agents: AgentStream[] = [];
  for (const id of ids.slice(1).reverse()) {
    const agent = new AgentStream(client, `agent-${agents.length}`);
    await agent.accept(id);
    agents.push(agent);
  }

  expect(await restart([...agents, ...streams])).toEqual(Array(39).fill('UNAVAILABLE'));
  expect(await drainQueue(newClient())).toEqual(ids);
});

test('an ended session stays ended after a restart, and the count of open sessions persists', async () => {
  const client = newClient();
  const customer = new CustomerStream(client, 'erin');
  const ended = await customer.init();
  const agent = new AgentStream(client, 'agent-a');
  await agent.accept(ended.sessionId);
  customer.hangUp();
  expect((await agent.next()).resp?.$case).toBe('sessionEnded');

  // Ten open sessions: the default limit per customer.
  const open: string[] = [];
  const holders: CustomerStream[] = [];
  for (let i = 0; i < 10; i++) {
    const holder = new CustomerStream(client, 'erin');
    holders.push(holder);
    open.push((await holder.init()).sessionId);
  }
  const overLimit = new CustomerStream(client, 'erin');
  overLimit.sendInit();
  expect(await overLimit.endCode()).toBe(status.RESOURCE_EXHAUSTED);

  await restart([customer, agent, ...holders]);
  const client2 = newClient();

  const resume = new CustomerStream(client2, 'erin');
  resume.sendInit(ended.sessionId);
  expect(await resume.endCode()).toBe(status.FAILED_PRECONDITION);
  const acceptEnded = new AgentStream(client2, 'agent-a');
  acceptEnded.sendAccept(ended.sessionId);
  expect(await acceptEnded.endCode()).toBe(status.FAILED_PRECONDITION);

  const stillOverLimit = new CustomerStream(client2, 'erin');
  stillOverLimit.sendInit();
  expect(await stillOverLimit.endCode()).toBe(status.RESOURCE_EXHAUSTED);

  // Ending one of the ten (after the restart) makes room for exactly one more. hang_up gets no
  // reply; an agent's session_ended shows it was committed (SPEC §3: committed first, then told).
  const closer = new CustomerStream(client2, 'erin');
  await closer.init(open[0]);
  const watcher = new AgentStream(client2, 'agent-watch');
  await watcher.accept(open[0]);
  closer.hangUp();
  expect((await watcher.next()).resp?.$case).toBe('sessionEnded');
  const fresh = new CustomerStream(client2, 'erin');
  const freshSession = await fresh.init();
  expect([ended.sessionId, ...open]).not.toContain(freshSession.sessionId);
  const again = new CustomerStream(client2, 'erin');
  again.sendInit();
  expect(await again.endCode()).toBe(status.RESOURCE_EXHAUSTED);

  // The queue holds the open sessions only, oldest first: not the ended one.
  expect(await drainQueue(client2)).toEqual([...open.slice(1), freshSession.sessionId]);
});

test('entry dates in the history after a restart are identical to those received live before it', async () => {
  const client = newClient();
  const customer = new CustomerStream(client, 'dana');
  const session = await customer.init();
  const agentA = new AgentStream(client, 'agent-a');
  const agentB = new AgentStream(client, 'agent-b');
  await agentA.accept(session.sessionId);
  await agentB.accept(session.sessionId);

  // agent-a receives the customer's and agent-b's entries live, with their dates; agent-b receives agent-a's.
  const liveA: ChatEntry[] = [];
  const liveB: ChatEntry[] = [];
  for (let round = 0; round < 8; round++) {
    customer.send(`question ${round}`);
    agentB.send(`note ${round}`);
    liveA.push(...liveEntries(await agentA.take(2)));
    liveB.push(...liveEntries(await agentB.take(1)));
    agentA.send(`answer ${round}`);
    liveB.push(...liveEntries(await agentB.take(1)));
    await customer.take(2);
  }

  await restart([customer, agentA, agentB]);
  const history = (await historyViaNewAgent(newClient(), session.sessionId)).history;
  expect(history).toHaveLength(24);
  const inHistory = new Map(history.map((e) => [entryText(e), e.date?.getTime()]));
  expect(liveA.map(entryWithDate)).toEqual(liveA.map((e) => `${entryText(e)} @${inHistory.get(entryText(e))}`));
  expect(liveB.map(entryWithDate)).toEqual(liveB.map((e) => `${entryText(e)} @${inHistory.get(entryText(e))}`));
  // Live order and history order agree for each receiver.
  expect(liveA.map(entryText)).toEqual(history.map(entryText).filter((t) => !t.startsWith('agent-a:')));
  expect(liveB.map(entryText)).toEqual(history.map(entryText).filter((t) => !t.startsWith('agent-b:')));
});
