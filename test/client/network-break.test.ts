// The client library across a broken connection (a relay between client and server resets it):
// reconnect, resume, deliver what was missed once, and send each message exactly once, whether or
// not the server had it when the connection broke.
import { AgentChat, CustomerChat } from '../../src/client';
import { ChatRecorder } from '../helpers/chat-recorder';
import type { RelayProxy } from '../helpers/relay-proxy';
import { useServerBehindRelay } from '../helpers/relayed-server';
import type { TestServer } from '../helpers/test-server';

let server: TestServer;
let relay: RelayProxy;
const track = useServerBehindRelay((s, r) => ([server, relay] = [s, r]));

const fastRetry = { backoff: { initialMs: 20, maxMs: 250 } };

/** The customer goes through the relay; the agent talks to the server directly, unaffected by breaks. */
async function setUp() {
  const customer = new CustomerChat({ address: relay.address, credentials: { token: 'joe' }, ...fastRetry });
  const agent = new AgentChat({ address: server.address, credentials: { token: 'agent-smith' }, ...fastRetry });
  track(customer);
  track(agent);
  const customerSees = new ChatRecorder(customer);
  const agentSees = new ChatRecorder(agent);
  const session = await customer.start();
  await agent.accept(session.sessionId);
  return { customer, agent, customerSees, agentSees, sessionId: session.sessionId };
}

async function historyOf(sessionId: string): Promise<string[]> {
  const reader = new AgentChat({ address: server.address, credentials: { token: 'agent-reader' } });
  const seen = new ChatRecorder(reader);
  await reader.accept(sessionId);
  reader.close();
  return seen.entries;
}

test('agent messages sent while the customer is cut off reach it after the reconnect, once and in order', async () => {
  const { customer, agent, customerSees } = await setUp();
  await agent.send('a1');
  await customerSees.waitForEntries(1);

  relay.breakConnections();
  await customerSees.waitForState('reconnecting');
  // Sent while the customer has no stream: it learns them only from the resumed history.
  await agent.send('a2');
  await agent.send('a3');
  await customerSees.waitForState('connected', 2);
  await agent.send('a4');
  await customerSees.waitForEntries(4);

  expect(customerSees.entries).toEqual(['agent-smith: a1', 'agent-smith: a2', 'agent-smith: a3', 'agent-smith: a4']);
  expect(customer.connectionState.kind).toBe('connected');
});

test('a message the server already has when the connection breaks is not sent again', async () => {
  const { customer, agentSees, customerSees, sessionId } = await setUp();
  await customer.send('committed before the break');
  await agentSees.waitForEntries(1); // the agent got it, so it is in the history

  relay.breakConnections();
  await customerSees.waitForState('reconnecting');
  await customerSees.waitForState('connected', 2);
  await customer.send('after the break');
  await agentSees.waitForEntries(2);

  expect(await historyOf(sessionId)).toEqual(['joe: committed before the break', 'joe: after the break']);
  expect(agentSees.entries).toEqual(['joe: committed before the break', 'joe: after the break']);
});

test('messages written into a connection that dies before the server reads them are sent again, exactly once', async () => {
  const { customer, agentSees, customerSees, sessionId } = await setUp();
  await customer.send('m1');
  await agentSees.waitForEntries(1);

  // The relay swallows what the customer writes: the writes succeed locally, the server sees nothing.
  relay.dropFromClients(true);
  await customer.send('m2 lost in the network');
  await customer.send('m3 lost in the network');
  const whileDown = customer.send('m4 sent while down');
  relay.breakConnections();
  relay.dropFromClients(false);
  await customerSees.waitForState('connected', 2);
  await whileDown;
  await agentSees.waitForEntries(4);
  await customer.send('m5');
  await agentSees.waitForEntries(5);

  const expected = ['joe: m1', 'joe: m2 lost in the network', 'joe: m3 lost in the network', 'joe: m4 sent while down', 'joe: m5'];
  expect(agentSees.entries).toEqual(expected);
  expect(await historyOf(sessionId)).toEqual(expected);
  expect(customerSees.count('reconnecting')).toBeGreaterThanOrEqual(1);
});

test('an agent cut off re-accepts the same session and gets what the customer said meanwhile', async () => {
  const customer = new CustomerChat({ address: server.address, credentials: { token: 'ann' }, ...fastRetry });
  const agent = new AgentChat({ address: relay.address, credentials: { token: 'agent-smith' }, ...fastRetry });
  track(customer);
  track(agent);
  const agentSees = new ChatRecorder(agent);
  const session = await customer.start();
  await customer.send('q1');
  await agent.accept();
  expect(agent.sessionId).toBe(session.sessionId);

  relay.breakConnections();
  await agentSees.waitForState('reconnecting');
  await customer.send('q2 while the agent is away');
  const reply = agent.send('reply written while away');
  await agentSees.waitForState('connected', 2);
  await reply;
  await customer.send('q3');
  await agentSees.waitForEntries(3);

  expect(agentSees.entries).toEqual(['ann: q1', 'ann: q2 while the agent is away', 'ann: q3']);
  expect(agent.sessionId).toBe(session.sessionId);
  const history = await historyOf(session.sessionId);
  expect(history.filter((line) => line.startsWith('agent-smith:'))).toEqual(['agent-smith: reply written while away']);
  expect(history).toHaveLength(4);
});

test('a hang-up asked for while cut off is done after the reconnect, after the messages sent before it', async () => {
  const { customer, customerSees, agentSees, sessionId } = await setUp();
  relay.breakConnections();
  await customerSees.waitForState('reconnecting');
  const sent = customer.send('bye for now');
  const hungUp = customer.hangUp();
  await Promise.all([sent, hungUp]);

  expect(customerSees.ends).toEqual([{ sessionId, reason: 'hung-up' }]);
  expect(await agentSees.waitForEnd()).toEqual({ sessionId, reason: 'ended' });
  expect(agentSees.entries).toEqual(['joe: bye for now']);
  expect(customer.connectionState.kind).toBe('idle');
});
