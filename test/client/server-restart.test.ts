// The client library across a server restart: both sides reconnect by themselves, resume the
// session, and each app receives every entry of the other side exactly once, in order.
import path from 'node:path';
import { AgentChat, CustomerChat, type ChatOptions } from '../../src/client';
import { ChatRecorder } from '../helpers/chat-recorder';
import { startRelayProxy, type RelayProxy } from '../helpers/relay-proxy';
import { spawnServer, waitForListening, type ServerProcess } from '../helpers/server-process';
import { makeTempDir, removeTempDir, startTestServer, type TestServer } from '../helpers/test-server';

jest.setTimeout(60_000);

const fastRetry = { backoff: { initialMs: 20, maxMs: 250 }, giveUp: { maxElapsedMs: 30_000 } } satisfies Partial<ChatOptions>;

let cleanups: (() => Promise<void> | void)[];
beforeEach(() => (cleanups = []));
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A customer and an agent in one session on `address`, with recorders, closed after the test. */
async function chatPair(address: string, customerId = 'joe', agentId = 'agent-smith') {
  const customer = new CustomerChat({ address, credentials: { token: customerId }, ...fastRetry });
  const agent = new AgentChat({ address, credentials: { token: agentId }, ...fastRetry });
  cleanups.push(() => customer.close(), () => agent.close());
  const customerSees = new ChatRecorder(customer);
  const agentSees = new ChatRecorder(agent);
  const session = await customer.start();
  await agent.accept(session.sessionId);
  return { customer, agent, customerSees, agentSees, sessionId: session.sessionId };
}

/** The session's history as `author: text` lines, read by a fresh agent. */
async function historyOf(address: string, sessionId: string): Promise<string[]> {
  const reader = new AgentChat({ address, credentials: { token: 'agent-reader' }, ...fastRetry });
  const seen = new ChatRecorder(reader);
  await reader.accept(sessionId);
  reader.close();
  return seen.entries;
}

test('a graceful restart mid-chat: both sides carry on, messages sent while down arrive once, nothing lost or doubled', async () => {
  const server: TestServer = await startTestServer();
  const relay: RelayProxy = await startRelayProxy(server.address);
  cleanups.push(() => server.stop(), () => relay.close());
  const { customer, agent, customerSees, agentSees, sessionId } = await chatPair(relay.address);

  await customer.send('c1');
  await agentSees.waitForEntries(1);
  await agent.send('a1');
  await customerSees.waitForEntries(1);

  const sentWhileDown: Promise<void>[] = [];
  await server.restart(async () => {
    await customerSees.waitForState('reconnecting');
    await agentSees.waitForState('reconnecting');
    sentWhileDown.push(customer.send('c2 while down'), customer.send('c3 while down'), agent.send('a2 while down'));
  });
  relay.retarget(server.address);
  await Promise.all(sentWhileDown);
  await agentSees.waitForEntries(3);
  await customerSees.waitForEntries(2);

  await agent.send('a3 after');
  await customerSees.waitForEntries(3);
  await customer.send('c4 after');
  await agentSees.waitForEntries(4);

  expect(customerSees.entries).toEqual(['agent-smith: a1', 'agent-smith: a2 while down', 'agent-smith: a3 after']);
  expect(agentSees.entries).toEqual(['joe: c1', 'joe: c2 while down', 'joe: c3 while down', 'joe: c4 after']);
  const history = await historyOf(relay.address, sessionId);
  expect(history.filter((line) => line.startsWith('joe:'))).toEqual(['joe: c1', 'joe: c2 while down', 'joe: c3 while down', 'joe: c4 after']);
  expect(history.filter((line) => line.startsWith('agent-smith:'))).toEqual(['agent-smith: a1', 'agent-smith: a2 while down', 'agent-smith: a3 after']);
  for (const seen of [customerSees, agentSees]) {
    expect(seen.count('closed')).toBe(0);
    expect(seen.last()).toEqual({ kind: 'connected', sessionId });
  }
});

test('the server killed with SIGKILL and started again on the same database, behind the same address: the chat goes on', async () => {
  const dir = makeTempDir();
  // The clients' address is a relay the test holds bound throughout; the server behind it listens on
  // a port of its own each time. (Restarting the server on a port it had let go could race another
  // jest worker for it.)
  const args = ['--port', '0', '--db', path.join(dir, 'support.db')];
  let server: ServerProcess = spawnServer(args);
  cleanups.push(() => removeTempDir(dir));
  cleanups.push(async () => {
    server.child.kill('SIGKILL');
    await server.exited;
  });
  const relay = await startRelayProxy(`127.0.0.1:${await waitForListening(server)}`);
  cleanups.push(() => relay.close());
  const address = relay.address;
  const { customer, agent, customerSees, agentSees, sessionId } = await chatPair(address, 'kim', 'agent-k');

  await customer.send('before the crash');
  await agentSees.waitForEntries(1);
  server.child.kill('SIGKILL');
  await server.exited;
  await customerSees.waitForState('reconnecting');
  await agentSees.waitForState('reconnecting');
  const customerWhileDown = customer.send('while the server is dead');
  const agentWhileDown = agent.send('still here');

  server = spawnServer(args);
  relay.retarget(`127.0.0.1:${await waitForListening(server)}`);
  await Promise.all([customerWhileDown, agentWhileDown]);
  await agentSees.waitForEntries(2);
  await customerSees.waitForEntries(1);
  await agent.send('after the crash');
  await customerSees.waitForEntries(2);

  expect(agentSees.entries).toEqual(['kim: before the crash', 'kim: while the server is dead']);
  expect(customerSees.entries).toEqual(['agent-k: still here', 'agent-k: after the crash']);
  const history = await historyOf(address, sessionId);
  expect(history).toHaveLength(4);
  expect(history.filter((line) => line.startsWith('kim:'))).toEqual(['kim: before the crash', 'kim: while the server is dead']);
  expect(history.filter((line) => line.startsWith('agent-k:'))).toEqual(['agent-k: still here', 'agent-k: after the crash']);
});
