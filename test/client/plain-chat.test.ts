// The client library on a healthy connection: start, accept, chat, hang up, resume, and refusals;
// against one server, and unchanged against a deployment of two instances on PostgreSQL (SPEC §8)
// where every customer talks to one instance and every agent to the other.
import { status } from '@grpc/grpc-js';
import { AgentChat, ChatClientError, CustomerChat, type ChatEvent, type ChatOptions } from '../../src/client';
import { ChatRecorder } from '../helpers/chat-recorder';
import { POSTGRES_MISSING } from '../helpers/postgres';
import { startDeployment } from '../helpers/postgres-deployment';
import { startTestServer } from '../helpers/test-server';
import { waitFor } from '../helpers/wait';

/** Where customers and agents connect, with the flags given to every server. */
type Deployment = Readonly<{ customerAddress: string; agentAddress: string; stop: () => Promise<void> }>;

const deployments: [string, (flags: string[]) => Promise<Deployment>][] = [
  [
    'one server on SQLite',
    async (flags) => {
      const server = await startTestServer(flags);
      return { customerAddress: server.address, agentAddress: server.address, stop: () => server.stop() };
    },
  ],
];
if (!POSTGRES_MISSING) {
  deployments.push([
    'two instances on PostgreSQL, customers on one and agents on the other',
    async (flags) => {
      const { instances, stop } = await startDeployment(2, flags);
      return { customerAddress: instances[0]!.address, agentAddress: instances[1]!.address, stop };
    },
  ]);
}

describe.each(deployments)('%s', (_name, deploy) => {
let server: Deployment;
let chats: { close(): void }[];

beforeEach(async () => {
  server = await deploy([]);
  chats = [];
});

afterEach(async () => {
  for (const chat of chats) chat.close();
  await server.stop();
});

function options(token: string, address: string): ChatOptions {
  return { address, credentials: { token }, backoff: { initialMs: 20, maxMs: 200 } };
}

function customer(token: string): CustomerChat {
  const chat = new CustomerChat(options(token, server.customerAddress));
  chats.push(chat);
  return chat;
}

function agent(token: string): AgentChat {
  const chat = new AgentChat(options(token, server.agentAddress));
  chats.push(chat);
  return chat;
}

test('a customer and an agent chat through the library; a hang-up ends the session for the agent', async () => {
  const joe = customer('Joe');
  const smith = agent('agent-smith');
  const joeSees = new ChatRecorder(joe);
  const smithSees = new ChatRecorder(smith);

  const started = await joe.start();
  expect(started.customerName).toBe('joe');
  expect(joe.sessionId).toBe(started.sessionId);
  expect(joe.connectionState).toEqual({ kind: 'connected', sessionId: started.sessionId });
  await joe.send('my card was declined');

  const accepted = await smith.accept();
  expect(accepted.sessionId).toBe(started.sessionId);
  await smithSees.waitForEntries(1);
  await smith.send('which card?');
  await joeSees.waitForEntries(1);
  await joe.send('the visa one');
  await smithSees.waitForEntries(2);

  await joe.hangUp();
  expect(await smithSees.waitForEnd()).toEqual({ sessionId: started.sessionId, reason: 'ended' });
  expect(joeSees.ends).toEqual([{ sessionId: started.sessionId, reason: 'hung-up' }]);
  expect(joeSees.entries).toEqual(['agent-smith: which card?']);
  expect(smithSees.entries).toEqual(['joe: my card was declined', 'joe: the visa one']);
  expect(smithSees.rawEntries.map((e) => e.fromMe)).toEqual([false, false]);
  expect(joeSees.stateKinds()).toEqual(['connecting', 'connected', 'idle']);
  expect(smithSees.stateKinds()).toEqual(['connecting', 'connected', 'idle']);
  expect(joe.sessionId).toBeUndefined();
  await expect(joe.send('anyone?')).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
});

test('resume delivers the whole history, own entries marked, with the server dates; an agent can accept by id', async () => {
  const first = customer('rita');
  const session = await first.start();
  await first.send('hello');
  const smith = agent('agent-smith');
  await smith.accept(session.sessionId);
  await smith.send('hi Rita');
  const firstSees = new ChatRecorder(first);
  await firstSees.waitForEntries(1);
  first.close();

  const again = customer('rita');
  const againSees = new ChatRecorder(again);
  await again.resume(session.sessionId);
  expect(againSees.entries).toEqual(['rita: hello', 'agent-smith: hi Rita']);
  expect(againSees.rawEntries.map((e) => e.fromMe)).toEqual([true, false]);
  const times = againSees.rawEntries.map((e) => e.date.getTime());
  expect(times[1]).toBeGreaterThanOrEqual(times[0]!);

  // A second agent joining by id sees the other agent's entry as not its own, and its own as its own.
  const jones = agent('agent-jones');
  const jonesSees = new ChatRecorder(jones);
  await jones.accept(session.sessionId);
  expect(jonesSees.entries).toEqual(['rita: hello', 'agent-smith: hi Rita']);
  expect(jonesSees.rawEntries.map((e) => e.fromMe)).toEqual([false, false]);
});

test('the events iterator yields the same story and ends when the chat closes', async () => {
  const joe = customer('joe');
  const events = joe.events();
  const collected: ChatEvent[] = [];
  const reading = (async () => {
    for await (const event of events) collected.push(event);
  })();
  await joe.start();
  const smith = agent('agent-smith');
  await smith.accept();
  await smith.send('hello from the iterator');
  await waitFor(() => collected.some((e) => e.type === 'entry'), 10_000, 'an entry event');
  joe.close();
  await reading;
  expect(collected.map((e) => (e.type === 'state' ? e.state.kind : e.type))).toEqual(['connecting', 'connected', 'entry', 'closed']);
});

test('refusals: an empty queue, a foreign session, wrong role and bad text reject, and the chat stays usable', async () => {
  const smith = agent('agent-smith');
  await expect(smith.accept()).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
  expect(smith.connectionState.kind).toBe('idle');

  const joe = customer('joe');
  const session = await joe.start();
  const eve = customer('eve');
  await expect(eve.resume(session.sessionId)).rejects.toMatchObject({ code: status.NOT_FOUND });
  expect((await smith.accept()).sessionId).toBe(session.sessionId);

  await expect(joe.send(' \n\t')).rejects.toBeInstanceOf(ChatClientError);
  await expect(joe.send('x'.repeat(8193))).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  await expect(joe.start()).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });

  // A customer id on the agent method is refused for good: the chat closes with the reason.
  const impostor = agent('joe');
  const impostorSees = new ChatRecorder(impostor);
  await expect(impostor.accept()).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  expect((await impostorSees.closed()).kind).toBe('refused');
});

test('a bearer token goes out as "authorization: Bearer <jwt>" (a demo-mode server refuses it)', async () => {
  const claims = Buffer.from(JSON.stringify({ sub: 'agent-007', role: 'agent' })).toString('base64url');
  const jwt = `eyJhbGciOiJIUzI1NiJ9.${claims}.c2lnbmF0dXJl`;
  const bond = new AgentChat({ ...options('unused', server.agentAddress), credentials: { bearer: jwt } });
  chats.push(bond);
  expect(bond.userId).toBe('agent-007');
  const bondSees = new ChatRecorder(bond);
  await expect(bond.accept()).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  const reason = await bondSees.closed();
  expect(reason.kind).toBe('refused');
  expect(reason.error?.message).toMatch(/authorization/);
});

test('a message the server refuses is reported as rejected, and the chat reconnects and goes on', async () => {
  await server.stop();
  server = await deploy(['--max-message-bytes', '16']);
  const joe = customer('joe'); // its own limit is the default 8192, so the server is the one to refuse
  const joeSees = new ChatRecorder(joe);
  const session = await joe.start();
  const smith = agent('agent-smith');
  const smithSees = new ChatRecorder(smith);
  await smith.accept(session.sessionId);

  await joe.send('short one');
  await joe.send('this one is far too long for the server');
  await joe.send('short two');
  await smithSees.waitForEntries(2);
  await waitFor(() => joeSees.rejected.length > 0, 10_000, 'the rejection');

  expect(joeSees.rejected.map((r) => [r.text, status[r.error.code]])).toEqual([['this one is far too long for the server', 'INVALID_ARGUMENT']]);
  expect(smithSees.entries).toEqual(['joe: short one', 'joe: short two']);
  expect(joeSees.stateKinds()).toEqual(['connecting', 'connected', 'reconnecting', 'connected']);
});
});
