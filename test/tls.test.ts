import * as grpc from '@grpc/grpc-js';
import type { SupportClient } from '../gen/support';
import { serverNamingOf } from '../src/client/tls-server-name';
import { AgentStream, connect, CustomerStream, describeAgentResponse, describeCustomerResponse } from './helpers/chat-client';
import { connectWith, makeTestCertificates, tlsCredentials, type TestCertificates } from './helpers/test-certificates';
import { makeTempDir, removeTempDir, startTestServer, type TestServer } from './helpers/test-server';

let dir: string;
let certs: TestCertificates;

beforeAll(async () => {
  dir = makeTempDir('support-tls-');
  certs = await makeTestCertificates(dir);
});

afterAll(() => removeTempDir(dir));

let clients: SupportClient[] = [];

afterEach(() => {
  for (const client of clients) client.close();
  clients = [];
});

/** A client on its own connection, closed after the test. */
function client(address: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions = {}): SupportClient {
  const made = connectWith(address, credentials, options);
  clients.push(made);
  return made;
}

/** `localhost:PORT` of a test server (whose `address` is 127.0.0.1:PORT): the name the certificate is checked against. */
function byName(server: TestServer): string {
  return `localhost:${server.address.split(':').pop()}`;
}

/** A customer and an agent, each on its own connection, chat one exchange and end the session. */
async function chatEndToEnd(customerClient: SupportClient, agentClient: SupportClient, customerName: string): Promise<void> {
  const customer = new CustomerStream(customerClient, customerName);
  const session = await customer.init();
  expect(session.customerName).toBe(customerName);
  const agent = new AgentStream(agentClient, 'agent-tess');
  // By id, so the test does not depend on what else is in the queue.
  expect((await agent.accept(session.sessionId)).sessionId).toBe(session.sessionId);

  customer.send('my card was swallowed');
  expect(describeAgentResponse(await agent.next())).toBe('customer: my card was swallowed');
  agent.send('a new one is on its way');
  expect(describeCustomerResponse(await customer.next())).toBe('agent-tess: a new one is on its way');
  customer.hangUp();
  expect(describeAgentResponse(await agent.next())).toBe('session ended');

  customer.end();
  agent.end();
  expect(await customer.endCode()).toBe(grpc.status.OK);
  expect(await agent.endCode()).toBe(grpc.status.OK);
}

/** A customer `user` on `supportClient` asks for a session and is refused at the transport: UNAVAILABLE, no response. */
async function expectRefused(supportClient: SupportClient, user: string): Promise<void> {
  const customer = new CustomerStream(supportClient, user);
  customer.sendInit();
  const status = await customer.ended();
  expect({ code: grpc.status[status.code], responses: customer.responses }).toEqual({ code: 'UNAVAILABLE', responses: [] });
}

/** The server never ran a call for `user`: the refusal happened before HTTP/2, so not even a start line was logged. */
function expectNoStreamOf(server: TestServer, user: string): void {
  expect(server.logs.filter((line) => line.msg === 'stream started' && line.user === user)).toEqual([]);
}

function listeningLine(server: TestServer): Record<string, unknown> | undefined {
  return server.logs.find((line) => String(line.msg).startsWith('listening on'));
}

describe('TLS: --tls-cert and --tls-key', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(['--tls-cert', certs.server.certFile, '--tls-key', certs.server.keyFile]);
  });

  afterAll(() => server.stop());

  test('the listening line says the transport is tls', () => {
    expect(listeningLine(server)).toMatchObject({ auth: 'demo', transport: 'tls' });
  });

  test('a customer and an agent chat end to end over TLS, the server verified as localhost', async () => {
    const credentials = tlsCredentials(certs.ca.cert);
    await chatEndToEnd(client(byName(server), credentials), client(byName(server), credentials), 'tls-carol');
  });

  test('a client dialing 127.0.0.1 is verified against the IP address in the certificate', async () => {
    // Named as the client library names an IP (no IP as SNI, which Node deprecates: DEP0123), the certificate still checked against the IP.
    const naming = serverNamingOf(server.address, undefined);
    const credentials = grpc.credentials.createSsl(certs.ca.cert, null, null, { checkServerIdentity: naming.checkServerIdentity! });
    const customer = new CustomerStream(client(server.address, credentials, naming.channelOptions), 'tls-by-ip');
    expect((await customer.init()).customerName).toBe('tls-by-ip');
    customer.end();
    expect(await customer.endCode()).toBe(grpc.status.OK);
  });

  // The same trusted certificate, checked against a name it does not carry: proves the host name
  // is verified, not only the signature.
  test('a client that expects another host name refuses the certificate: UNAVAILABLE', async () => {
    const credentials = tlsCredentials(certs.ca.cert);
    await expectRefused(client(server.address, credentials, { 'grpc.ssl_target_name_override': 'support.example.com' }), 'tls-wrong-name');
    expectNoStreamOf(server, 'tls-wrong-name');
  });

  test('a plaintext client fails with UNAVAILABLE', async () => {
    await expectRefused(connectOwn(server.address), 'tls-plaintext');
    expectNoStreamOf(server, 'tls-plaintext');
  });

  test('a TLS client that does not trust the CA fails with UNAVAILABLE', async () => {
    await expectRefused(client(byName(server), tlsCredentials(certs.otherCa.cert)), 'tls-untrusting');
    expectNoStreamOf(server, 'tls-untrusting');
  });
});

describe('mTLS: --tls-client-ca', () => {
  let server: TestServer;

  // A fresh server per test: the refusal tests check that the queue is empty afterwards.
  beforeEach(async () => {
    server = await startTestServer([
      '--tls-cert', certs.server.certFile, '--tls-key', certs.server.keyFile, '--tls-client-ca', certs.ca.certFile,
    ]);
  });

  afterEach(() => server.stop());

  const withClientCertificate = () => client(byName(server), tlsCredentials(certs.ca.cert, certs.client));

  /**
   * No session is waiting: an agent with a valid certificate finds the queue empty. Then, so that
   * this check is known to see sessions, a customer with a valid certificate queues one and a
   * second agent stream gets it.
   */
  async function expectNoQueuedSession(): Promise<void> {
    const agent = new AgentStream(withClientCertificate(), 'agent-tess');
    agent.sendAccept();
    expect(grpc.status[await agent.endCode()]).toBe('FAILED_PRECONDITION');

    const customer = new CustomerStream(withClientCertificate(), 'mtls-control');
    const session = await customer.init();
    const control = new AgentStream(withClientCertificate(), 'agent-tess');
    expect(await control.accept()).toMatchObject({ sessionId: session.sessionId, customerName: 'mtls-control' });
    customer.end();
    control.end();
    await customer.ended();
    await control.ended();
  }

  test('the listening line says the transport is mtls', () => {
    expect(listeningLine(server)).toMatchObject({ auth: 'demo', transport: 'mtls' });
  });

  test('clients with a certificate from the CA chat end to end', async () => {
    await chatEndToEnd(withClientCertificate(), withClientCertificate(), 'mtls-carol');
  });

  test('a client without a certificate is refused (UNAVAILABLE) and no session is created', async () => {
    await expectRefused(client(byName(server), tlsCredentials(certs.ca.cert)), 'mtls-no-cert');
    expectNoStreamOf(server, 'mtls-no-cert');
    await expectNoQueuedSession();
  });

  test('a client whose certificate is from another CA is refused (UNAVAILABLE) and no session is created', async () => {
    await expectRefused(client(byName(server), tlsCredentials(certs.ca.cert, certs.otherClient)), 'mtls-other-ca');
    expectNoStreamOf(server, 'mtls-other-ca');
    await expectNoQueuedSession();
  });

  test('a plaintext client is refused (UNAVAILABLE)', async () => {
    await expectRefused(connectOwn(server.address), 'mtls-plaintext');
    expectNoStreamOf(server, 'mtls-plaintext');
  });
});

/** A plaintext client on its own connection, closed after the test. */
function connectOwn(address: string): SupportClient {
  const made = connect(address, { ownConnection: true });
  clients.push(made);
  return made;
}
