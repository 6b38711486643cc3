import { status } from '@grpc/grpc-js';
import {
  ChatAgentRequest,
  ChatAgentResponse,
  ChatCustomerRequest,
  ChatCustomerResponse,
  type Session,
  type SupportClient,
} from '../gen/support';
import { AgentStream, connect, CustomerStream, describeAgentResponse, describeCustomerResponse, describeHistory } from './helpers/chat-client';
import { connectRaw, rawStream, type RawBytesClient } from './helpers/raw-client';
import { startTestServer, type TestServer } from './helpers/test-server';

// SPEC §6: message text is 1..8192 bytes of valid UTF-8, not only white space; any string field
// that is not valid UTF-8, and any undecodable request, is INVALID_ARGUMENT.

let server: TestServer;
let client: SupportClient;
let raw: RawBytesClient;

beforeEach(async () => {
  server = await startTestServer();
  client = connect(server.address);
  raw = connectRaw(server.address);
});

afterEach(async () => {
  client.close();
  raw.close();
  await server.stop();
});

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/** A customer in a session with one agent attached. */
async function chat(user = 'joe', agentId = 'agent-a'): Promise<{ customer: CustomerStream; agent: AgentStream; session: Session }> {
  const customer = new CustomerStream(client, user);
  const session = await customer.init();
  const agent = new AgentStream(client, agentId);
  await agent.accept(session.sessionId);
  return { customer, agent, session };
}

/** Resumes `session` on a fresh customer stream. */
async function resume(session: Session, user = 'joe'): Promise<{ stream: CustomerStream; history: string[] }> {
  const stream = new CustomerStream(client, user);
  const resumed = await stream.init(session.sessionId);
  return { stream, history: describeHistory(resumed) };
}

const customerInit = (resumeSessionId = '') =>
  Buffer.from(ChatCustomerRequest.encode({ req: { $case: 'init', value: { resumeSessionId } } }).finish());
const agentAccept = (sessionId = '') => Buffer.from(ChatAgentRequest.encode({ req: { $case: 'accept', value: { sessionId } } }).finish());

// Not valid UTF-8: a lone continuation after a lead byte, an overlong '/', a UTF-16 surrogate, a truncated sequence, a byte that never occurs.
const invalidUtf8: Array<[string, number[]]> = [
  ['C3 28 (bad continuation)', [0xc3, 0x28]],
  ['C0 AF (overlong)', [0xc0, 0xaf]],
  ['ED A0 80 (surrogate)', [0xed, 0xa0, 0x80]],
  ['E2 82 (truncated)', [0xe2, 0x82]],
  ['FF', [0xff]],
];

/** A length-delimited string field `field` holding `content`. */
function stringField(field: number, content: number[]): Buffer {
  return Buffer.from([(field << 3) | 2, content.length, ...content]);
}

describe('texts that are accepted', () => {
  const accepted: Array<[string, string]> = [
    ['one byte', 'x'],
    ['exactly 8192 ASCII bytes', 'a'.repeat(8192)],
    ['exactly 8192 bytes of two-byte characters (é × 4096)', 'é'.repeat(4096)],
    ['exactly 8192 bytes of four-byte characters (😀 × 2048)', '😀'.repeat(2048)],
    ['exactly 8192 bytes of three-byte white space plus one letter', '\u3000'.repeat(2730) + 'ab'],
    ['a leading space before other content', ' hello'],
    ['white space around content', '\n\t hello \u3000\n'],
  ];

  test.each(accepted)('a customer msg of %s is delivered unchanged', async (_what, text) => {
    expect(bytes(text)).toBeLessThanOrEqual(8192);
    const { customer, agent } = await chat();
    customer.send(text);
    const response = await agent.next();
    expect(response.resp?.$case === 'msg' && response.resp.value.entry).toEqual({ $case: 'customerMsg', value: text });
    customer.end();
    expect(await customer.endCode()).toBe(status.OK);
  });

  test('an agent msg of exactly 8192 bytes (é × 4096) is delivered unchanged to the customer and the other agents', async () => {
    const text = 'é'.repeat(4096);
    expect(bytes(text)).toBe(8192);
    const { customer, agent, session } = await chat();
    const other = new AgentStream(client, 'agent-b');
    await other.accept(session.sessionId);
    agent.send(text);
    expect(await customer.next()).toEqual({ resp: { $case: 'msg', value: { agentName: 'agent-a', msg: text } } });
    expect(describeAgentResponse(await other.next())).toBe(`agent-a: ${text}`);
  });

  test('an agent msg with a leading space is delivered with its space', async () => {
    const { customer, agent } = await chat();
    agent.send(' leading space');
    expect(describeCustomerResponse(await customer.next())).toBe('agent-a:  leading space');
  });
});

describe('texts that are rejected with INVALID_ARGUMENT', () => {
  const rejected: Array<[string, string]> = [
    ['empty', ''],
    ['8193 ASCII bytes', 'a'.repeat(8193)],
    ['8193 bytes of which 8192 are é (4097 characters)', 'é'.repeat(4096) + 'a'],
    ['8194 bytes in only 4097 characters (é × 4097)', 'é'.repeat(4097)],
    ['8196 bytes of four-byte characters (😀 × 2049)', '😀'.repeat(2049)],
    ['a single space', ' '],
    ['newline and tab', '\n\t'],
    ['an ideographic space (U+3000)', '\u3000'],
    ['a no-break space (U+00A0)', '\u00a0'],
    ['a line separator (U+2028)', '\u2028'],
    ['a paragraph separator (U+2029)', '\u2029'],
    ['a next-line character (U+0085)', '\u0085'],
    ['an Ogham space mark (U+1680)', '\u1680'],
    ['a mix of white space', ' \t\n\r\u000b\u000c\u2003\u202f\u205f\u3000'],
    ['8193 bytes of spaces', ' '.repeat(8193)],
  ];

  test.each(rejected)('a customer msg that is %s fails with INVALID_ARGUMENT and is not committed', async (_what, text) => {
    const { customer, agent, session } = await chat();
    customer.send(text);
    expect(await customer.endCode()).toBe(status.INVALID_ARGUMENT);

    // The session stays open and the text is nowhere: not in the history, not at the agent.
    const { stream, history } = await resume(session);
    expect(history).toEqual([]);
    stream.send('next');
    expect(describeAgentResponse(await agent.next())).toBe('customer: next');
  });

  const agentRejected: Array<[string, string]> = [
    ['empty', ''],
    ['8193 bytes (é × 4096 + "a")', 'é'.repeat(4096) + 'a'],
    ['only white space ("\\n\\t")', '\n\t'],
    ['only an ideographic space (U+3000)', '\u3000'],
    ['only a line separator (U+2028)', '\u2028'],
  ];

  test.each(agentRejected)('an agent msg that is %s fails with INVALID_ARGUMENT and is not delivered', async (_what, text) => {
    const { customer, agent, session } = await chat();
    agent.send(text);
    expect(await agent.endCode()).toBe(status.INVALID_ARGUMENT);
    const other = new AgentStream(client, 'agent-b');
    expect(describeHistory(await other.accept(session.sessionId))).toEqual([]);
    other.send('next');
    expect(describeCustomerResponse(await customer.next())).toBe('agent-b: next');
  });
});

describe('bytes that are not a valid request', () => {
  test.each(invalidUtf8)('invalid UTF-8 (%s) in a customer msg fails with INVALID_ARGUMENT and is not committed', async (_what, content) => {
    const customer = new CustomerStream(client, 'joe');
    const session = await customer.init();
    const agent = new AgentStream(client, 'agent-a');
    await agent.accept(session.sessionId);

    const stream = rawStream(raw, 'ChatCustomer', 'joe');
    stream.write(customerInit(session.sessionId));
    const reply = ChatCustomerResponse.decode(await stream.next());
    expect(reply.resp?.$case).toBe('session');
    stream.write(stringField(2, content));
    expect(await stream.endCode()).toBe(status.INVALID_ARGUMENT);

    const { stream: again, history } = await resume(session);
    expect(history).toEqual([]);
    again.send('after');
    expect(describeAgentResponse(await agent.next())).toBe('customer: after');
  });

  test('the example C3 28 as the msg field of ChatCustomerRequest fails with INVALID_ARGUMENT', async () => {
    const stream = rawStream(raw, 'ChatCustomer', 'joe');
    stream.write(customerInit());
    expect(ChatCustomerResponse.decode(await stream.next()).resp?.$case).toBe('session');
    stream.write(Buffer.from([0x12, 0x02, 0xc3, 0x28]));
    expect(await stream.endCode()).toBe(status.INVALID_ARGUMENT);
  });

  test('invalid UTF-8 in init.resume_session_id fails with INVALID_ARGUMENT', async () => {
    const stream = rawStream(raw, 'ChatCustomer', 'joe');
    stream.write(Buffer.from([0x0a, 0x04, 0x0a, 0x02, 0xc3, 0x28]));
    expect(await stream.endCode()).toBe(status.INVALID_ARGUMENT);
    expect(stream.responses).toEqual([]);
  });

  test.each(invalidUtf8.slice(0, 3))('invalid UTF-8 (%s) in an agent msg fails with INVALID_ARGUMENT and is not delivered', async (_what, content) => {
    const customer = new CustomerStream(client, 'joe');
    const session = await customer.init();
    const stream = rawStream(raw, 'ChatAgent', 'agent-raw');
    stream.write(agentAccept(session.sessionId));
    expect(ChatAgentResponse.decode(await stream.next()).resp?.$case).toBe('acceptedSession');
    stream.write(stringField(2, content));
    expect(await stream.endCode()).toBe(status.INVALID_ARGUMENT);

    const other = new AgentStream(client, 'agent-b');
    expect(describeHistory(await other.accept(session.sessionId))).toEqual([]);
    other.send('after');
    expect(describeCustomerResponse(await customer.next())).toBe('agent-b: after');
  });

  test('invalid UTF-8 in accept.session_id fails with INVALID_ARGUMENT', async () => {
    const stream = rawStream(raw, 'ChatAgent', 'agent-raw');
    stream.write(Buffer.from([0x0a, 0x04, 0x0a, 0x02, 0xc3, 0x28]));
    expect(await stream.endCode()).toBe(status.INVALID_ARGUMENT);
  });

  /** Deterministic pseudo-random bytes (so that a failure can be reproduced). */
  function pseudoRandomBytes(seed: number, length: number): Buffer {
    const out = Buffer.alloc(length);
    let x = seed >>> 0 || 1;
    for (let i = 0; i < length; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      out[i] = x & 0xff;
    }
    return out;
  }

  /** Pseudo-random bytes that are not a decodable request (checked with the generated decoder). */
  function garbage(decode: (b: Buffer) => unknown, length: number): Buffer {
    for (let seed = 1; ; seed++) {
      const candidate = pseudoRandomBytes(seed, length);
      try {
        decode(candidate);
      } catch {
        return candidate;
      }
    }
  }

  const customerGarbage: Array<[string, Buffer]> = [
    ['a field with wire type 7 (0x0f)', Buffer.from([0x0f])],
    ['a length past the end (0a 05 01)', Buffer.from([0x0a, 0x05, 0x01])],
    ['deadbeefcafebabe', Buffer.from('deadbeefcafebabe', 'hex')],
    ['64 pseudo-random bytes', garbage((b) => ChatCustomerRequest.decode(b), 64)],
    ['4000 pseudo-random bytes', garbage((b) => ChatCustomerRequest.decode(b), 4000)],
    ['only an unknown field (48 01)', Buffer.from([0x48, 0x01])],
    ['hang_up with the wrong wire type', Buffer.from('1a0548656c6c6f', 'hex')],
  ];

  test.each(customerGarbage)('%s as a customer request fails with INVALID_ARGUMENT; other streams are unaffected', async (_what, request) => {
    const { customer, agent, session } = await chat();
    customer.send('before');
    expect(describeAgentResponse(await agent.next())).toBe('customer: before');

    const disconnected = rawStream(raw, 'ChatCustomer', 'joe');
    disconnected.write(request);
    const connected = rawStream(raw, 'ChatCustomer', 'joe');
    connected.write(customerInit());
    expect(ChatCustomerResponse.decode(await connected.next()).resp?.$case).toBe('session');
    connected.write(request);
    expect(await disconnected.endCode()).toBe(status.INVALID_ARGUMENT);
    expect(await connected.endCode()).toBe(status.INVALID_ARGUMENT);

    // The established conversation goes on, both ways, and new streams are served.
    customer.send('after');
    expect(describeAgentResponse(await agent.next())).toBe('customer: after');
    agent.send('still here');
    expect(describeCustomerResponse(await customer.next())).toBe('agent-a: still here');
    const fresh = new CustomerStream(client, 'ann');
    expect((await fresh.init()).customerName).toBe('ann');
    expect((await resume(session)).history).toEqual(['customer: before', 'customer: after', 'agent-a: still here']);
  });

  test('garbage as an agent request fails with INVALID_ARGUMENT, connected or not', async () => {
    const { customer, agent, session } = await chat();
    for (const request of [Buffer.from([0x0f]), garbage((b) => ChatAgentRequest.decode(b), 256)]) {
      const disconnected = rawStream(raw, 'ChatAgent', 'agent-raw');
      disconnected.write(request);
      expect(await disconnected.endCode()).toBe(status.INVALID_ARGUMENT);
      const connected = rawStream(raw, 'ChatAgent', 'agent-raw');
      connected.write(agentAccept(session.sessionId));
      expect(ChatAgentResponse.decode(await connected.next()).resp?.$case).toBe('acceptedSession');
      connected.write(request);
      expect(await connected.endCode()).toBe(status.INVALID_ARGUMENT);
    }
    customer.send('after');
    expect(describeAgentResponse(await agent.next())).toBe('customer: after');
  });
});
