import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import type { ChatCustomerRequest, ChatCustomerResponse, SupportClient } from '../gen/support';
import { AgentStream, connect, CustomerStream, RecordedStream } from './helpers/chat-client';
import { startBlackholeProxy } from './helpers/tcp-proxy';
import { useServerPerTest, type TestServer } from './helpers/test-server';
import { waitFor } from './helpers/wait';

// SPEC §7 Logs: one JSON line when a stream starts and one when it ends (method, peer, user,
// session once known, code, duration_ms); never message text or credentials.

let server: TestServer;
let client: SupportClient;
useServerPerTest((started, connected) => {
  server = started;
  client = connected;
});

type Line = Record<string, unknown>;

/** Log lines about streams: start lines carry `method` and no `code`, end lines carry `code`. */
const streamLines = (where: (line: Line) => boolean): Line[] => server.logs.filter((line) => typeof line.method === 'string' && where(line));
const endLines = (where: (line: Line) => boolean): Line[] => streamLines((line) => line.code !== undefined && where(line));
const startLines = (where: (line: Line) => boolean): Line[] => streamLines((line) => line.code === undefined && where(line));

async function endLineOf(user: string): Promise<Line> {
  await waitFor(() => endLines((line) => line.user === user).length > 0, 5000, `the end line of ${user}'s stream`);
  return endLines((line) => line.user === user)[0]!;
}

test('a customer stream logs one start line and one end line with method, peer, user, session, code OK and duration_ms', async () => {
  const startedAt = Date.now();
  const customer = new CustomerStream(client, 'Log-Joe');
  const session = await customer.init();
  customer.end();
  expect(await customer.endCode()).toBe(status.OK);
  const end = await endLineOf('log-joe');
  const elapsed = Date.now() - startedAt;

  const lines = streamLines((line) => line.user === 'log-joe');
  expect(lines).toHaveLength(2);
  const [start] = startLines((line) => line.user === 'log-joe');
  expect(lines[0]).toBe(start); // the start line comes first
  expect(lines[1]).toBe(end);
  expect(start).toMatchObject({ method: '/Support/ChatCustomer', user: 'log-joe' });
  expect(start!.peer).toEqual(expect.stringContaining('127.0.0.1'));
  expect(end).toMatchObject({ method: '/Support/ChatCustomer', user: 'log-joe', session: session.sessionId, code: 'OK' });
  expect(end.peer).toBe(start!.peer);
  expect(typeof end.duration_ms).toBe('number');
  expect(end.duration_ms as number).toBeGreaterThanOrEqual(0);
  expect(end.duration_ms as number).toBeLessThanOrEqual(elapsed + 5);
});

test('an agent stream logs one start line and one end line with its session and code OK', async () => {
  const customer = new CustomerStream(client, 'joe');
  const session = await customer.init();
  const agent = new AgentStream(client, 'agent-log');
  await agent.accept();
  agent.end();
  expect(await agent.endCode()).toBe(status.OK);
  const end = await endLineOf('agent-log');
  expect(startLines((line) => line.user === 'agent-log')).toEqual([expect.objectContaining({ method: '/Support/ChatAgent' })]);
  expect(endLines((line) => line.user === 'agent-log')).toHaveLength(1);
  expect(end).toMatchObject({ method: '/Support/ChatAgent', user: 'agent-log', session: session.sessionId, code: 'OK' });
  expect(typeof end.duration_ms).toBe('number');
});

test('the end line carries the status name of a failed stream, and no session when none was joined', async () => {
  const customer = new CustomerStream(client, 'fail-joe');
  customer.send('hello?');
  expect(await customer.endCode()).toBe(status.FAILED_PRECONDITION);
  const end = await endLineOf('fail-joe');
  expect(end).toMatchObject({ method: '/Support/ChatCustomer', user: 'fail-joe', code: 'FAILED_PRECONDITION' });
  expect(end.session).toBeUndefined();
  expect(streamLines((line) => line.user === 'fail-joe')).toHaveLength(2);

  const agent = new AgentStream(client, 'agent-invalid');
  agent.sendAccept('x'.repeat(129));
  expect(await agent.endCode()).toBe(status.INVALID_ARGUMENT);
  expect(await endLineOf('agent-invalid')).toMatchObject({ method: '/Support/ChatAgent', code: 'INVALID_ARGUMENT' });
});

test('the end line of a stream that failed in a session names the session', async () => {
  const customer = new CustomerStream(client, 'sess-joe');
  const session = await customer.init();
  customer.sendInit();
  expect(await customer.endCode()).toBe(status.FAILED_PRECONDITION);
  expect(await endLineOf('sess-joe')).toMatchObject({ session: session.sessionId, code: 'FAILED_PRECONDITION' });
});

test('a taken-over stream logs ABORTED with its session', async () => {
  const first = new CustomerStream(client, 'take-joe');
  const session = await first.init();
  const second = new CustomerStream(client, 'take-joe');
  await second.init(session.sessionId);
  expect(await first.endCode()).toBe(status.ABORTED);
  await waitFor(() => endLines((line) => line.user === 'take-joe').length === 1, 5000, 'the end line of the first stream');
  expect(endLines((line) => line.user === 'take-joe')[0]).toMatchObject({ code: 'ABORTED', session: session.sessionId });
  expect(startLines((line) => line.user === 'take-joe')).toHaveLength(2);
});

test('a stream whose connection breaks logs CANCELLED, not OK', async () => {
  // grpc-js's cancel() half-closes before its reset, which the server may answer with OK in
  // between; a broken connection is the unambiguous case.
  const proxy = await startBlackholeProxy(server.address);
  const viaProxy = connect(proxy.address);
  const customer = new CustomerStream(viaProxy, 'cancel-joe');
  const session = await customer.init();
  const agent = new AgentStream(viaProxy, 'agent-cancel');
  await agent.accept();
  await proxy.close(); // destroys both TCP connections
  expect(await endLineOf('cancel-joe')).toMatchObject({ code: 'CANCELLED', session: session.sessionId });
  expect(await endLineOf('agent-cancel')).toMatchObject({ code: 'CANCELLED', method: '/Support/ChatAgent' });
  viaProxy.close();
});

test('a stream refused for its credentials logs a start and an end line with UNAUTHENTICATED or PERMISSION_DENIED', async () => {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', 'bearer nope');
  const refused = new RecordedStream<ChatCustomerRequest, ChatCustomerResponse>(client.chatCustomer(metadata));
  expect(await refused.endCode()).toBe(status.UNAUTHENTICATED);
  await waitFor(() => endLines(() => true).length === 1, 5000, 'the end line');
  expect(endLines(() => true)[0]).toMatchObject({ method: '/Support/ChatCustomer', code: 'UNAUTHENTICATED' });
  expect(startLines(() => true)).toHaveLength(1);

  const agentOnCustomer = new CustomerStream(client, 'agent-lost');
  expect(await agentOnCustomer.endCode()).toBe(status.PERMISSION_DENIED);
  await waitFor(() => endLines(() => true).length === 2, 5000, 'the second end line');
  expect(endLines(() => true)[1]).toMatchObject({ method: '/Support/ChatCustomer', code: 'PERMISSION_DENIED' });
  expect(startLines(() => true)).toHaveLength(2);
});

test('message texts and credentials never appear in any log line', async () => {
  const customerText = 'CUSTOMER-SECRET-TEXT-7f3a';
  const agentText = 'AGENT-SECRET-TEXT-91bc';
  const rejectedText = `REJECTED-SECRET-TEXT-55de${'x'.repeat(8200)}`;
  const customer = new CustomerStream(client, 'Cred-Joe');
  const session = await customer.init();
  const agent = new AgentStream(client, 'Agent-Cred');
  await agent.accept();
  customer.send(customerText);
  expect((await agent.next()).resp?.$case).toBe('msg');
  agent.send(agentText);
  expect((await customer.next()).resp?.$case).toBe('msg');

  const rejected = new CustomerStream(client, 'cred-joe');
  await rejected.init(session.sessionId); // takes the session over: the first stream ends ABORTED
  rejected.send(rejectedText);
  expect(await rejected.endCode()).toBe(status.INVALID_ARGUMENT);

  const badCredential = 'bearer S3CR3T-CREDENTIAL-VALUE';
  const metadata = new grpc.Metadata();
  metadata.set('authorization', badCredential);
  const refused = new RecordedStream<ChatCustomerRequest, ChatCustomerResponse>(client.chatCustomer(metadata));
  expect(await refused.endCode()).toBe(status.UNAUTHENTICATED);

  agent.end();
  expect(await agent.endCode()).toBe(status.OK);
  expect(await customer.endCode()).toBe(status.ABORTED);
  await waitFor(() => endLines(() => true).length === 4, 5000, 'the end lines of all four streams');

  const all = JSON.stringify(server.logs);
  for (const secret of [customerText, agentText, 'REJECTED-SECRET-TEXT-55de', 'S3CR3T-CREDENTIAL-VALUE', 'token Cred-Joe', 'token cred-joe', 'token Agent-Cred', 'Cred-Joe']) {
    expect(all).not.toContain(secret);
  }
  // The ids themselves are logged, lower-cased, as `user`.
  expect(endLines((line) => line.user === 'cred-joe')).toHaveLength(2);
  expect(endLines((line) => line.user === 'agent-cred')).toHaveLength(1);
});
