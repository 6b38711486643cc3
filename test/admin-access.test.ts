import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SignJWT } from 'jose';
import type { SupportAdminServiceClient } from '../gen/support/admin/v1/admin';
import type { SupportClient } from '../gen/support';
import { connectAdmin, demoToken, readStream, unaryCode } from './helpers/admin-client';
import { AgentStream, connect, CustomerStream } from './helpers/chat-client';
import { makeTempDir, startTestServer, type TestServer } from './helpers/test-server';

// Only admins may call the admin service (SPEC §1): demo ids starting with "admin", jwt tokens
// whose role claim is "admin". Everyone else: PERMISSION_DENIED; no or bad credentials:
// UNAUTHENTICATED. Admins keep exactly the chat access their id gives them.

type Call = (client: SupportAdminServiceClient, metadata: grpc.Metadata) => Promise<grpc.status>;

const streamCode = async (call: grpc.ClientReadableStream<unknown>) => (await readStream(call)).status.code;

/** Every admin method, with a request that the gate must refuse before looking at it. */
const METHODS: [string, Call][] = [
  ['ListSessions', (c, m) => unaryCode(c, 'listSessions', { state: 0, customerId: '', agentId: '', createdAfter: undefined, createdBefore: undefined, pageSize: 0, pageToken: '' }, m)],
  ['GetSession', (c, m) => unaryCode(c, 'getSession', { sessionId: 'x' }, m)],
  ['GetQueueStatistics', (c, m) => unaryCode(c, 'getQueueStatistics', {}, m)],
  ['EndSession', (c, m) => unaryCode(c, 'endSession', { sessionId: 'x' }, m)],
  ['EraseCustomer', (c, m) => unaryCode(c, 'eraseCustomer', { customerId: 'joe' }, m)],
  ['WatchQueue', (c, m) => streamCode(c.watchQueue({}, m))],
  ['ExportSessions', (c, m) => streamCode(c.exportSessions({ selection: { $case: 'sessionId', value: 'x' }, format: 0 }, m))],
];

describe('demo mode', () => {
  let server: TestServer;
  let admin: SupportAdminServiceClient;
  let chat: SupportClient;
  beforeAll(async () => {
    server = await startTestServer();
    admin = connectAdmin(server.address);
    chat = connect(server.address);
  });
  afterAll(async () => {
    admin.close();
    chat.close();
    await server.stop();
  });

  const refused: [string, grpc.Metadata, grpc.status][] = [
    ['a customer', demoToken('joe'), grpc.status.PERMISSION_DENIED],
    ['an agent', demoToken('agent1'), grpc.status.PERMISSION_DENIED],
    ['an agent whose id goes on with "admin"', demoToken('agent-admin'), grpc.status.PERMISSION_DENIED],
    ['no credentials', demoToken(), grpc.status.UNAUTHENTICATED],
    ['a malformed token', demoToken('two words'), grpc.status.UNAUTHENTICATED],
  ];
  describe.each(METHODS)('%s', (_name, call) => {
    test.each(refused)('refuses %s', async (_who, metadata, code) => {
      expect(await call(admin, metadata)).toBe(code);
    });
  });

  test('the refusal says what makes an admin', async () => {
    const refusal = await new Promise<grpc.ServiceError>((resolve) => admin.getQueueStatistics({}, demoToken('joe'), (err) => resolve(err!)));
    expect(refusal.details).toBe('the admin service is for admins; ids of admins start with "admin"');
  });

  test('every admin call is logged once: method, user (also one refused), status; why a credential failed is only in the log', async () => {
    const method = '/support.admin.v1.SupportAdminService/GetQueueStatistics';
    const linesOf = (user: string | undefined) => server.logs.filter((line) => line.msg === 'admin call ended' && line.method === method && line.user === user);
    const before = { admin: linesOf('admin-ops').length, joe: linesOf('joe').length, none: linesOf(undefined).length };
    expect(await unaryCode(admin, 'getQueueStatistics', {}, demoToken('admin-ops'))).toBe(grpc.status.OK);
    expect(await unaryCode(admin, 'getQueueStatistics', {}, demoToken('joe'))).toBe(grpc.status.PERMISSION_DENIED);
    expect(await unaryCode(admin, 'getQueueStatistics', {}, demoToken())).toBe(grpc.status.UNAUTHENTICATED);
    expect(linesOf('admin-ops').slice(before.admin)).toEqual([expect.objectContaining({ code: 'OK', duration_ms: expect.any(Number) })]);
    expect(linesOf('joe').slice(before.joe)).toEqual([expect.objectContaining({ code: 'PERMISSION_DENIED' })]); // who was refused
    expect(linesOf(undefined).slice(before.none)).toEqual([expect.objectContaining({ code: 'UNAUTHENTICATED', auth_failure: 'malformed demo token' })]);
  });

  test('an admin id (case as typed: ids are taken in lower case) is a customer in the chat, and refused on ChatAgent', async () => {
    const customer = new CustomerStream(chat, 'Admin-Ops');
    expect(await customer.init()).toMatchObject({ customerName: 'admin-ops', history: [] });
    const agent = new AgentStream(chat, 'admin-ops');
    agent.sendAccept();
    expect(await agent.endCode()).toBe(grpc.status.PERMISSION_DENIED);
    customer.end();
    expect(await customer.endCode()).toBe(grpc.status.OK);
  });
});

describe('jwt mode: the role claim says "admin"', () => {
  const secret = crypto.randomBytes(32);
  const dir = makeTempDir('support-admin-jwt-');
  let server: TestServer;
  let admin: SupportAdminServiceClient;
  let chat: SupportClient;
  beforeAll(async () => {
    const secretFile = path.join(dir, 'secret');
    fs.writeFileSync(secretFile, secret);
    server = await startTestServer(['--auth', 'jwt', '--jwt-secret-file', secretFile, '--jwt-audience', 'support']);
    admin = connectAdmin(server.address);
    chat = connect(server.address);
  });
  afterAll(async () => {
    admin.close();
    chat.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function bearer(sub: string, role: string): Promise<grpc.Metadata> {
    const token = await new SignJWT({ sub, role, aud: 'support' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(secret);
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    return metadata;
  }

  test.each(METHODS)('%s: a customer or agent token is refused, whatever its sub; so is a bad token', async (_name, call) => {
    expect(await call(admin, await bearer('admin-ops', 'customer'))).toBe(grpc.status.PERMISSION_DENIED);
    expect(await call(admin, await bearer('admin-ops', 'agent'))).toBe(grpc.status.PERMISSION_DENIED);
    const forged = await bearer('ops', 'admin');
    forged.set('authorization', `${forged.get('authorization')[0] as string}x`);
    expect(await call(admin, forged)).toBe(grpc.status.UNAUTHENTICATED);
  });

  test('an admin token is admitted, and the refusal of others names the claim', async () => {
    expect(await unaryCode(admin, 'getQueueStatistics', {}, await bearer('ops', 'admin'))).toBe(grpc.status.OK);
    expect(await unaryCode(admin, 'eraseCustomer', { customerId: 'nobody' }, await bearer('ops', 'admin'))).toBe(grpc.status.OK);
    const refusal = await new Promise<grpc.ServiceError>(async (resolve) => admin.getQueueStatistics({}, await bearer('joe', 'customer'), (err) => resolve(err!)));
    expect(refusal.details).toBe('the admin service is for admins; an admin\'s token has "role": "admin"');
  });

  test('an admin token has no access to the chat: ChatCustomer and ChatAgent refuse it', async () => {
    const customer = new CustomerStream(chat, 'ops', await bearer('ops', 'admin'));
    customer.sendInit();
    expect(await customer.endCode()).toBe(grpc.status.PERMISSION_DENIED);
    const agent = new AgentStream(chat, 'ops', await bearer('ops', 'admin'));
    agent.sendAccept();
    expect(await agent.endCode()).toBe(grpc.status.PERMISSION_DENIED);
  });
});
