import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { ChatAgentResponse, ChatCustomerResponse, type ChatAgentRequest, type ChatCustomerRequest, type SupportClient } from '../gen/support';
import { AgentStream, CustomerStream, RecordedStream } from './helpers/chat-client';
import { callWithAuthorization } from './helpers/raw-client';
import { frames } from './helpers/robustness-h2';
import { useServerPerTest, type TestServer } from './helpers/test-server';

// SPEC §1: `authorization: token <id>`, exactly once; agents' ids start with "agent".

let server: TestServer;
let client: SupportClient;
useServerPerTest((started, connected) => {
  server = started;
  client = connected;
});

function metadataWith(...authorization: string[]): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const value of authorization) metadata.add('authorization', value);
  return metadata;
}

/** A customer stream with exactly this metadata; it sends nothing. */
function customerCall(metadata: grpc.Metadata): RecordedStream<ChatCustomerRequest, ChatCustomerResponse> {
  return new RecordedStream(client.chatCustomer(metadata));
}

/** An agent stream with exactly this metadata; it sends nothing. */
function agentCall(metadata: grpc.Metadata): RecordedStream<ChatAgentRequest, ChatAgentResponse> {
  return new RecordedStream(client.chatAgent(metadata));
}

describe('missing or repeated authorization', () => {
  test('a single valid authorization sent raw is accepted: init{} gets a session for that customer, accept{} then takes it', async () => {
    const customer = await callWithAuthorization(server.address, '/Support/ChatCustomer', ['token Joe'], { request: frames.init() });
    const session = customer.reply && ChatCustomerResponse.decode(customer.reply).resp;
    expect(session).toMatchObject({ $case: 'session', value: { customerName: 'joe', history: [] } });
    const agent = await callWithAuthorization(server.address, '/Support/ChatAgent', ['token agent1'], { request: frames.accept() });
    const accepted = agent.reply && ChatAgentResponse.decode(agent.reply).resp;
    expect(accepted).toMatchObject({ $case: 'acceptedSession', value: { customerName: 'joe' } });
  });

  test('a ChatCustomer call without authorization ends with UNAUTHENTICATED before any request is sent', async () => {
    const call = customerCall(new grpc.Metadata());
    expect(await call.endCode()).toBe(status.UNAUTHENTICATED);
    expect(call.responses).toEqual([]);
  });

  test('a ChatAgent call without authorization ends with UNAUTHENTICATED before any request is sent', async () => {
    const call = agentCall(new grpc.Metadata());
    expect(await call.endCode()).toBe(status.UNAUTHENTICATED);
    expect(call.responses).toEqual([]);
  });

  test('two identical authorization values end the call with UNAUTHENTICATED', async () => {
    const result = await callWithAuthorization(server.address, '/Support/ChatCustomer', ['token joe', 'token joe']);
    expect(result).toMatchObject({ code: status.UNAUTHENTICATED });
  });

  test('two different authorization values end the call with UNAUTHENTICATED, on either method', async () => {
    expect(await callWithAuthorization(server.address, '/Support/ChatCustomer', ['token joe', 'token bob'])).toMatchObject({ code: status.UNAUTHENTICATED });
    expect(await callWithAuthorization(server.address, '/Support/ChatAgent', ['token agent1', 'token agent2'])).toMatchObject({ code: status.UNAUTHENTICATED });
  });

  test('a valid authorization value followed by a malformed one ends the call with UNAUTHENTICATED', async () => {
    const result = await callWithAuthorization(server.address, '/Support/ChatCustomer', ['token joe', 'bearer x']);
    expect(result).toMatchObject({ code: status.UNAUTHENTICATED });
  });
});

describe('malformed authorization values end the call with UNAUTHENTICATED', () => {
  const malformed: Array<[string, string]> = [
    ['"token" without an id', 'token'],
    ['"token " with an empty id', 'token '],
    ['another scheme ("bearer x")', 'bearer x'],
    ['another scheme with an agent id ("bearer agent1")', 'bearer agent1'],
    ['two spaces after "token"', 'token  joe'],
    ['no space after "token"', 'tokenjoe'],
    ['an id of 129 characters', `token ${'a'.repeat(129)}`],
    ['an agent id of 129 characters', `token agent${'a'.repeat(124)}`],
    ['an id with a space', 'token jo e'],
    ['a trailing space after the id', 'token joe '],
    ['the id alone', 'joe'],
  ];

  test.each(malformed)('%s, on ChatCustomer and on ChatAgent, before any request is sent', async (_what, value) => {
    const customer = customerCall(metadataWith(value));
    const agent = agentCall(metadataWith(value));
    expect(await customer.endCode()).toBe(status.UNAUTHENTICATED);
    expect(await agent.endCode()).toBe(status.UNAUTHENTICATED);
  });

  // grpc-js refuses to send these values, so they go through a raw HTTP/2 connection.
  const rawMalformed: Array<[string, string]> = [
    ['an id with a tab', 'token jo\te'],
    ['a tab instead of the space', 'token\tjoe'],
    ['an id with a control character (U+0001)', 'token jo\x01e'],
    ['an id with DEL (U+007F)', 'token jo\x7fe'],
    ['an id with the byte 0x85 (a C1 control character in Latin-1)', 'token jo\x85e'],
  ];

  test.each(rawMalformed)('%s (sent raw), on ChatCustomer and on ChatAgent', async (_what, value) => {
    const agentValue = value.replace('jo', 'agentjo');
    expect(await callWithAuthorization(server.address, '/Support/ChatCustomer', [value])).toMatchObject({ code: status.UNAUTHENTICATED });
    expect(await callWithAuthorization(server.address, '/Support/ChatAgent', [agentValue])).toMatchObject({ code: status.UNAUTHENTICATED });
  });

  test('a malformed authorization is reported as UNAUTHENTICATED even when the stream sends a request', async () => {
    const customer = new RecordedStream<ChatCustomerRequest, ChatCustomerResponse>(client.chatCustomer(metadataWith('bearer x')));
    customer.write({ req: { $case: 'init', value: { resumeSessionId: '' } } });
    expect(await customer.endCode()).toBe(status.UNAUTHENTICATED);
    expect(customer.responses).toEqual([]);
  });
});

describe('accepted authorization values', () => {
  test('the word "token" is case-insensitive and the id is taken in lower case', async () => {
    const upper = new RecordedStream<ChatCustomerRequest, ChatCustomerResponse>(client.chatCustomer(metadataWith('TOKEN Joe')));
    upper.write({ req: { $case: 'init', value: { resumeSessionId: '' } } });
    const response = await upper.next();
    expect(response.resp?.$case).toBe('session');
    if (response.resp?.$case !== 'session') return;
    expect(response.resp.value.customerName).toBe('joe');

    // The same customer with another spelling owns the session: it may resume it.
    const mixed = new RecordedStream<ChatCustomerRequest, ChatCustomerResponse>(client.chatCustomer(metadataWith('ToKeN JOE')));
    mixed.write({ req: { $case: 'init', value: { resumeSessionId: response.resp.value.sessionId } } });
    const resumed = await mixed.next();
    expect(resumed.resp?.$case).toBe('session');
    if (resumed.resp?.$case === 'session') expect(resumed.resp.value.customerName).toBe('joe');
    upper.end();
    mixed.end();
    expect(await mixed.endCode()).toBe(status.OK);
  });

  test('an id of exactly 128 characters is accepted', async () => {
    const id = `C${'x'.repeat(127)}`;
    const customer = new CustomerStream(client, id);
    const session = await customer.init();
    expect(session.customerName).toBe(id.toLowerCase());
    const agentId = `Agent${'y'.repeat(128 - 'Agent'.length)}`;
    const agent = new AgentStream(client, agentId);
    expect((await agent.accept()).sessionId).toBe(session.sessionId);
    agent.send('hello');
    const response = await customer.next();
    expect(response.resp).toEqual({ $case: 'msg', value: { agentName: agentId.toLowerCase(), msg: 'hello' } });
    customer.end();
    agent.end();
    expect(await customer.endCode()).toBe(status.OK);
    expect(await agent.endCode()).toBe(status.OK);
  });

  test('an id that contains "agent" later is a customer', async () => {
    const customer = new CustomerStream(client, 'secret-agent');
    expect((await customer.init()).customerName).toBe('secret-agent');
    customer.end();
    expect(await customer.endCode()).toBe(status.OK);
  });
});

describe('roles', () => {
  test('a customer id on ChatAgent ends with PERMISSION_DENIED before any request is sent', async () => {
    const call = agentCall(metadataWith('token joe'));
    expect(await call.endCode()).toBe(status.PERMISSION_DENIED);
    expect(call.responses).toEqual([]);
  });

  test('an agent id on ChatCustomer ends with PERMISSION_DENIED before any request is sent, after lower-casing ("Agent7")', async () => {
    const call = customerCall(metadataWith('token Agent7'));
    expect(await call.endCode()).toBe(status.PERMISSION_DENIED);
    expect(call.responses).toEqual([]);
  });

  test('an upper-case agent id ("AGENT-X") is an agent: allowed on ChatAgent, denied on ChatCustomer', async () => {
    const denied = customerCall(metadataWith('token AGENT-X'));
    expect(await denied.endCode()).toBe(status.PERMISSION_DENIED);
    // On ChatAgent it is authenticated: with an empty queue, accept{} fails for the queue, not the identity.
    const agent = new AgentStream(client, 'AGENT-X');
    agent.sendAccept();
    expect(await agent.endCode()).toBe(status.FAILED_PRECONDITION);
  });

  test('a role mismatch is reported as PERMISSION_DENIED even when the stream sends a request', async () => {
    const call = new RecordedStream<ChatAgentRequest, ChatAgentResponse>(client.chatAgent(metadataWith('token joe')));
    call.write({ req: { $case: 'accept', value: { sessionId: '' } } });
    expect(await call.endCode()).toBe(status.PERMISSION_DENIED);
  });

  test('role and identity are decided from the metadata alone (raw call with no request)', async () => {
    expect(await callWithAuthorization(server.address, '/Support/ChatAgent', ['token joe'])).toMatchObject({ code: status.PERMISSION_DENIED });
    expect(await callWithAuthorization(server.address, '/Support/ChatCustomer', ['token Agent7'])).toMatchObject({ code: status.PERMISSION_DENIED });
    expect(await callWithAuthorization(server.address, '/Support/ChatCustomer', [])).toMatchObject({ code: status.UNAUTHENTICATED });
  });
});
