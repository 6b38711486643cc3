import { expect } from '@jest/globals';
// The client library's production credentials: TLS with a private CA and a client certificate
// (mTLS), and bearer JWTs, against a server started with --tls-* and --auth jwt.
import fs from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { SignJWT } from 'jose';
import { AgentChat, CustomerChat, type ChatOptions } from '../../src/client';
import { ChatRecorder } from '../helpers/chat-recorder';
import { startRelayProxy } from '../helpers/relay-proxy';
import { waitFor } from '../helpers/wait';
import { makeTestCertificates, type TestCertificates } from '../helpers/test-certificates';
import { makeTempDir, removeTempDir, startTestServer, type TestServer } from '../helpers/test-server';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const AUDIENCE = 'support-chat';

let dir: string;
let certs: TestCertificates;
let server: TestServer;
let chats: { close(): void }[];

beforeAll(async () => {
  dir = makeTempDir('support-client-tls-');
  certs = await makeTestCertificates(dir);
  fs.writeFileSync(path.join(dir, 'jwt-secret'), SECRET);
  server = await startTestServer([
    '--tls-cert', certs.server.certFile, '--tls-key', certs.server.keyFile, '--tls-client-ca', certs.ca.certFile,
    '--auth', 'jwt', '--jwt-secret-file', path.join(dir, 'jwt-secret'), '--jwt-audience', AUDIENCE,
  ]);
});

afterAll(async () => {
  await server.stop();
  removeTempDir(dir);
});

beforeEach(() => (chats = []));
afterEach(() => chats.forEach((chat) => chat.close()));

function jwtFor(sub: string, role: 'customer' | 'agent'): Promise<string> {
  return new SignJWT({ sub, role })
    .setProtectedHeader({ alg: 'HS256' })
    .setAudience(AUDIENCE)
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
}

/** Options for `localhost:PORT` (the name in the server's certificate), trusting the test CA. */
function secureOptions(jwt: string, clientCert = true): ChatOptions {
  const tls = clientCert ? { rootCa: certs.ca.cert, cert: certs.client.cert, key: certs.client.key } : { rootCa: certs.ca.cert };
  return { address: `localhost:${server.address.split(':').pop()}`, credentials: { bearer: jwt }, tls, giveUp: { maxAttempts: 1 } };
}

test('over mTLS with bearer JWTs a customer and an agent chat; own entries are recognised by the token subject', async () => {
  const customer = new CustomerChat(secureOptions(await jwtFor('Tess-Customer', 'customer')));
  const agent = new AgentChat(secureOptions(await jwtFor('agent-tess', 'agent')));
  chats.push(customer, agent);
  expect(agent.userId).toBe('agent-tess');
  const customerSees = new ChatRecorder(customer);
  const agentSees = new ChatRecorder(agent);

  const session = await customer.start();
  await customer.send('my card was swallowed');
  await agent.accept(session.sessionId);
  await agent.send('a new one is on its way');
  await customerSees.waitForEntries(1);
  await agentSees.waitForEntries(1);
  expect(customerSees.entries).toEqual(['agent-tess: a new one is on its way']);
  expect(agentSees.entries).toEqual([`${session.customerName}: my card was swallowed`]);

  // A second agent's view of the history: the first agent's entry is not its own; a re-join by the first agent is.
  agent.close();
  const again = new AgentChat(secureOptions(await jwtFor('agent-tess', 'agent')));
  chats.push(again);
  const againSees = new ChatRecorder(again);
  await again.accept(session.sessionId);
  expect(againSees.rawEntries.map((e) => [e.author.id, e.fromMe])).toEqual([
    [session.customerName, false],
    ['agent-tess', true],
  ]);
});

test('without the client certificate the mTLS server refuses the connection, and the chat gives up', async () => {
  const customer = new CustomerChat(secureOptions(await jwtFor('joe', 'customer'), false));
  chats.push(customer);
  const seen = new ChatRecorder(customer);
  await expect(customer.start()).rejects.toMatchObject({ code: status.UNAVAILABLE });
  expect((await seen.closed()).kind).toBe('gave-up');
});

test('a token function is asked before every connection attempt: a failure is retried, and a reconnect gets a fresh token', async () => {
  const relay = await startRelayProxy(server.address);
  const minted: string[] = [];
  const tokenSource = async () => {
    if (minted.length === 0) {
      minted.push('(failed)');
      throw new Error('identity provider unavailable');
    }
    const token = await jwtFor('Joe', 'customer');
    minted.push(token);
    return token;
  };
  const options = secureOptions('unused');
  const customer = new CustomerChat({
    ...options,
    address: `localhost:${relay.address.split(':').pop()}`,
    credentials: { bearer: tokenSource, userId: 'Joe' },
    backoff: { initialMs: 20, maxMs: 100 },
    giveUp: { maxAttempts: 10 },
  });
  const agent = new AgentChat(secureOptions(await jwtFor('agent-tess', 'agent')));
  chats.push(customer, agent);
  const customerSees = new ChatRecorder(customer);
  const agentSees = new ChatRecorder(agent);
  try {
    const session = await customer.start();
    // The failed call was retried: a token came after it (how many more attempts it took does not matter).
    expect(minted[0]).toBe('(failed)');
    expect(minted.length).toBeGreaterThanOrEqual(2);
    const reconnecting = customerSees.states.find((state) => state.kind === 'reconnecting');
    expect(reconnecting).toMatchObject({ cause: { message: expect.stringContaining('could not get a token: identity provider unavailable') } });
    await agent.accept(session.sessionId);

    const mintedBeforeBreak = minted.length;
    relay.breakConnections();
    await waitFor(() => customerSees.count('connected') >= 2, 10_000, 'the customer to reconnect');
    // The reconnection asked for a token again, after the break: not the one it had.
    expect(minted.length).toBeGreaterThan(mintedBeforeBreak);
    await customer.send('still me after the break');
    await agentSees.waitForEntries(1);
    expect(agentSees.entries).toEqual(['Joe: still me after the break']);
  } finally {
    await relay.close();
  }
});
