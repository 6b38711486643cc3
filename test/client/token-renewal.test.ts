import { expect } from '@jest/globals';
// The client library across token expiries. The server ends a stream when its JWT expires; a chat
// whose credentials are a token function resumes with a fresh token, and the app sees no gap, no
// loss and no duplicate; a refused fresh token, or a fixed token, makes that end final.
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SignJWT } from 'jose';
import { AgentChat, CustomerChat, type ChatOptions, type ConnectionState } from '../../src/client';
import { AgentStream, connect } from '../helpers/chat-client';
import { ChatRecorder } from '../helpers/chat-recorder';
import { makeTempDir, removeTempDir, startTestServer, type TestServer } from '../helpers/test-server';
import { waitFor } from '../helpers/wait';

jest.setTimeout(90_000);

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const AUDIENCE = 'support-chat';
const EXPIRED_DETAILS = 'the token expired; reconnect with a fresh one';

let dir: string;
let server: TestServer;
let chats: { close(): void }[];

beforeAll(async () => {
  dir = makeTempDir('support-token-renewal-');
  fs.writeFileSync(path.join(dir, 'jwt-secret'), SECRET);
  server = await startTestServer(['--auth', 'jwt', '--jwt-secret-file', path.join(dir, 'jwt-secret'), '--jwt-audience', AUDIENCE]);
});

afterAll(async () => {
  await server.stop();
  removeTempDir(dir);
});

beforeEach(() => (chats = []));
afterEach(() => chats.forEach((chat) => chat.close()));

/**
 * A token the server takes for 3 to 4 s more: its `exp` is 26 s ago, and verification tolerates
 * 30 s of clock skew. `secret` signs it (another one makes a token the server refuses).
 */
function shortLivedToken(sub: string, role: 'customer' | 'agent', secret = SECRET): Promise<string> {
  const exp = Math.floor(Date.now() / 1000) - 26;
  return new SignJWT({ sub, role, aud: AUDIENCE, exp }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
}

function longLivedToken(sub: string, role: 'customer' | 'agent'): Promise<string> {
  return new SignJWT({ sub, role, aud: AUDIENCE }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(new TextEncoder().encode(SECRET));
}

const isExpiry = (state: ConnectionState) => state.kind === 'reconnecting' && state.cause.code === grpc.status.UNAUTHENTICATED && state.cause.message.includes(EXPIRED_DETAILS);

/**
 * What a chat went through, in order: `token` (its token function was asked), `expired` (its
 * stream ended at the token's expiry), `connected`.
 */
class Timeline {
  readonly steps: string[] = [];

  /** Credentials whose token function records each call. */
  credentials(userId: string, mint: () => Promise<string>): ChatOptions['credentials'] {
    return { userId, bearer: () => (this.steps.push('token'), mint()) };
  }

  follow(chat: CustomerChat | AgentChat): void {
    chat.on('state', (state) => {
      if (isExpiry(state)) this.steps.push('expired');
      else if (state.kind === 'connected') this.steps.push('connected');
    });
  }

  expiries(): number {
    return this.steps.filter((step) => step === 'expired').length;
  }

  /** For each expiry, whether a token was asked for after it and before the next connection. */
  renewedAfterEachExpiry(): boolean[] {
    return this.steps.flatMap((step, i) => {
      if (step !== 'expired') return [];
      const next = this.steps.indexOf('connected', i);
      return [next > i && this.steps.slice(i, next).includes('token')];
    });
  }
}

function options(credentials: ChatOptions['credentials']): ChatOptions {
  return { address: server.address, credentials, giveUp: { maxAttempts: 5 } };
}

test('a conversation goes on across several expiries of both sides\' tokens: every entry arrives once and in order, nothing sent is lost, a fresh token is asked for each time', async () => {
  const customerTimeline = new Timeline();
  const agentTimeline = new Timeline();
  const customer = new CustomerChat(options(customerTimeline.credentials('joe', () => shortLivedToken('joe', 'customer'))));
  const agent = new AgentChat(options(agentTimeline.credentials('agent-ann', () => shortLivedToken('agent-ann', 'agent'))));
  chats.push(customer, agent);
  customerTimeline.follow(customer);
  agentTimeline.follow(agent);
  const customerSees = new ChatRecorder(customer);
  const agentSees = new ChatRecorder(agent);

  const { sessionId } = await customer.start();
  await agent.accept(sessionId);

  // Both sides send at a steady pace, while connected and while reconnecting alike, until each
  // side's stream has ended at a token expiry three times.
  const sent = { joe: [] as string[], 'agent-ann': [] as string[] };
  const sends: Promise<void>[] = [];
  const failures: string[] = [];
  let sending = true;
  const keepSending = async (chat: CustomerChat | AgentChat, who: keyof typeof sent) => {
    for (let i = 1; sending; i++) {
      const text = `${who} #${i}`;
      sent[who].push(text);
      sends.push(chat.send(text).catch((err: unknown) => void failures.push(`${text}: ${String(err)}`)));
      await new Promise((resolve) => setTimeout(resolve, 40)); // pacing, not waiting for anything
    }
  };
  const senders = Promise.all([keepSending(customer, 'joe'), keepSending(agent, 'agent-ann')]);
  try {
    const closed = () => [customer, agent].some((chat) => chat.connectionState.kind === 'closed');
    await waitFor(() => closed() || (customerTimeline.expiries() >= 3 && agentTimeline.expiries() >= 3), 60_000, 'three expiries on each side');
  } finally {
    sending = false;
    await senders;
  }
  expect([customer.connectionState, agent.connectionState].filter((state) => state.kind === 'closed')).toEqual([]);
  await Promise.all(sends);
  expect(failures).toEqual([]);

  const expected = { customer: sent['agent-ann'].map((text) => `agent-ann: ${text}`), agent: sent.joe.map((text) => `joe: ${text}`) };
  await waitFor(() => customerSees.entries.length >= expected.customer.length && agentSees.entries.length >= expected.agent.length, 15_000, 'every entry');
  expect(customerSees.entries).toEqual(expected.customer);
  expect(agentSees.entries).toEqual(expected.agent);
  expect([...customerSees.rejected, ...agentSees.rejected, ...customerSees.ends, ...agentSees.ends]).toEqual([]);

  // The session holds each message once, in the order sent.
  const client = connect(server.address);
  try {
    const reader = new AgentStream(client, 'agent-reader', bearerMetadata(await longLivedToken('agent-reader', 'agent')));
    const history = (await reader.accept(sessionId)).history;
    const textsOf = (who: string) => history.flatMap((e) => (e.entry?.$case === 'customerMsg' && who === 'joe' ? [e.entry.value] : e.entry?.$case === 'agentMsg' && e.entry.value.agentName === who ? [e.entry.value.msg] : []));
    expect(textsOf('joe')).toEqual(sent.joe);
    expect(textsOf('agent-ann')).toEqual(sent['agent-ann']);
    reader.cancel();
  } finally {
    client.close();
  }

  // A fresh token for each connection after an expiry (the last one may just be under way).
  await waitFor(() => customer.connectionState.kind === 'connected' && agent.connectionState.kind === 'connected', 15_000, 'both chats connected');
  for (const timeline of [customerTimeline, agentTimeline]) {
    expect(timeline.renewedAfterEachExpiry()).toEqual(timeline.steps.filter((step) => step === 'expired').map(() => true));
  }
});

test('a fresh token that the server refuses ends the chat for good: closed, reason refused', async () => {
  const timeline = new Timeline();
  // The first token is good; the ones after it are signed with the wrong key.
  const tokens = [() => shortLivedToken('joe', 'customer'), () => shortLivedToken('joe', 'customer', 'not-the-secret-the-server-knows-at-all')];
  let asked = 0;
  const customer = new CustomerChat(options(timeline.credentials('joe', () => tokens[Math.min(asked++, 1)]!())));
  chats.push(customer);
  timeline.follow(customer);
  const seen = new ChatRecorder(customer);
  await customer.start();

  const reason = await seen.closed(15_000);
  expect(reason).toMatchObject({ kind: 'refused', error: { code: grpc.status.UNAUTHENTICATED } });
  // It did ask for a fresh token after the expiry, and stopped once that one was refused.
  expect(timeline.steps).toEqual(['token', 'connected', 'expired', 'token']);
  await expect(customer.send('after the end')).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
});

test('a fixed bearer token cannot be renewed: its expiry ends the chat (closed, refused) without a reconnect', async () => {
  const customer = new CustomerChat(options({ bearer: await shortLivedToken('joe', 'customer') }));
  chats.push(customer);
  const seen = new ChatRecorder(customer);
  await customer.start();
  const reason = await seen.closed(15_000);
  expect(reason).toMatchObject({ kind: 'refused', error: { code: grpc.status.UNAUTHENTICATED, message: expect.stringContaining(EXPIRED_DETAILS) } });
  expect(seen.stateKinds()).toEqual(['connecting', 'connected', 'closed']);
});

function bearerMetadata(token: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}
