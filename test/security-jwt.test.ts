import crypto from 'node:crypto';
import type { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { ChatCustomerResponse, type SupportClient } from '../gen/support';
import { AgentStream, connect, CustomerStream, describeCustomerResponse, nextDescribed } from './helpers/chat-client';
import { callWithAuthorization } from './helpers/raw-client';
import { frames } from './helpers/robustness-h2';
import { waitFor } from './helpers/wait';
import { makeTempDir, removeTempDir, startTestServer, type TestServer } from './helpers/test-server';

const ISSUER = 'https://id.example.com';
const AUDIENCE = 'support-chat';
const now = () => Math.floor(Date.now() / 1000);

type SigningKey = { alg: string; key: CryptoKey | Uint8Array };

let dir: string;
let rsa: SigningKey & { publicPem: string };
let otherRsa: SigningKey;
let hmac: SigningKey & { file: string };
const files: Record<string, string> = {};

beforeAll(async () => {
  dir = makeTempDir('support-jwt-');
  const write = (name: string, content: string | Uint8Array) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    return (files[name] = file);
  };
  const rsaPair = await generateKeyPair('RS256', { extractable: true });
  const publicPem = await exportSPKI(rsaPair.publicKey);
  rsa = { alg: 'RS256', key: rsaPair.privateKey, publicPem };
  write('rsa.pem', publicPem);
  otherRsa = { alg: 'RS256', key: (await generateKeyPair('RS256')).privateKey };
  const secret = crypto.randomBytes(32);
  hmac = { alg: 'HS256', key: secret, file: write('secret', Buffer.concat([secret, Buffer.from('\n')])) };
});

afterAll(() => removeTempDir(dir));

/** A signed token for `sub` with role claim `role`; `claims` add to or override the defaults (iss, aud, exp in 10 min). */
async function tokenOf(signer: SigningKey, sub: string | undefined, role: string | undefined, claims: Record<string, unknown> = {}): Promise<string> {
  const payload: JWTPayload = { iss: ISSUER, aud: AUDIENCE, exp: now() + 600, ...(sub && { sub }), ...(role && { role }), ...claims };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload).setProtectedHeader({ alg: signer.alg, kid: 'k1' }).setIssuedAt().sign(signer.key);
}

function bearer(token: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('--auth jwt with an RS256 public key, issuer and audience', () => {
  let server: TestServer;
  let client: SupportClient;

  beforeAll(async () => {
    server = await startTestServer(['--auth', 'jwt', '--jwt-public-key-file', files['rsa.pem']!, '--jwt-issuer', ISSUER, '--jwt-audience', AUDIENCE]);
    client = connect(server.address);
  });
  afterAll(async () => {
    client.close();
    await server.stop();
  });

  test('valid customer and agent tokens chat end to end; the user id is `sub`, kept as written', async () => {
    const customer = new CustomerStream(client, 'Joe', bearer(await tokenOf(rsa, 'Joe', 'customer')));
    const session = await customer.init();
    expect(session.customerName).toBe('Joe');
    // An agent's role comes from the claim, not from an "agent" prefix.
    const agent = new AgentStream(client, 'smith', bearer(await tokenOf(rsa, 'smith', 'agent')));
    expect((await agent.accept(session.sessionId)).sessionId).toBe(session.sessionId);
    customer.send('my card was declined');
    expect(await agent.next()).toMatchObject({ resp: { $case: 'msg', value: { entry: { $case: 'customerMsg', value: 'my card was declined' } } } });
    agent.write({ req: { $case: 'msg', value: 'looking into it' } });
    expect(await customer.next()).toMatchObject({ resp: { $case: 'msg', value: { agentName: 'smith', msg: 'looking into it' } } });
    customer.end();
    agent.end();
    expect(await customer.endCode()).toBe(grpc.status.OK);
    expect(await agent.endCode()).toBe(grpc.status.OK);
  });

  const refused: [string, () => Promise<grpc.Metadata>][] = [
    ['an expired token', async () => bearer(await tokenOf(rsa, 'joe', 'customer', { exp: now() - 3600 }))],
    ['a token not valid yet (nbf in an hour)', async () => bearer(await tokenOf(rsa, 'joe', 'customer', { nbf: now() + 3600 }))],
    ['a wrong audience', async () => bearer(await tokenOf(rsa, 'joe', 'customer', { aud: 'billing' }))],
    ['a wrong issuer', async () => bearer(await tokenOf(rsa, 'joe', 'customer', { iss: 'https://evil.example.com' }))],
    ['no exp', async () => bearer(await tokenOf(rsa, 'joe', 'customer', { exp: undefined }))],
    ['no sub', async () => bearer(await tokenOf(rsa, undefined, 'customer'))],
    ['a sub with white space', async () => bearer(await tokenOf(rsa, 'joe smith', 'customer'))],
    ['no role claim', async () => bearer(await tokenOf(rsa, 'joe', undefined))],
    ['an unknown role', async () => bearer(await tokenOf(rsa, 'joe', 'superuser'))],
    ['a token signed by another key', async () => bearer(await tokenOf(otherRsa, 'joe', 'customer'))],
    [
      'a tampered payload (sub changed, signature kept)',
      async () => {
        const [header, , signature] = (await tokenOf(rsa, 'joe', 'customer')).split('.');
        return bearer([header, base64url({ iss: ISSUER, aud: AUDIENCE, exp: now() + 600, sub: 'ann', role: 'customer' }), signature].join('.'));
      },
    ],
    ['alg: none', async () => bearer(`${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ iss: ISSUER, aud: AUDIENCE, exp: now() + 600, sub: 'joe', role: 'customer' })}.`)],
    [
      'HS256 signed with the public RSA key as its secret (algorithm confusion)',
      async () => bearer(await tokenOf({ alg: 'HS256', key: new TextEncoder().encode(rsa.publicPem) }, 'joe', 'customer')),
    ],
    ['a demo token', async () => {
      const metadata = new grpc.Metadata();
      metadata.set('authorization', 'token joe');
      return metadata;
    }],
    ['garbage after Bearer', async () => bearer('not.a.jwt')],
    ['no authorization', async () => new grpc.Metadata()],
  ];

  test.each(refused)('%s → UNAUTHENTICATED, with the same details as every other refusal', async (_case, metadata) => {
    const customer = new CustomerStream(client, 'joe', await metadata());
    customer.sendInit();
    const status = await customer.ended();
    expect(status.code).toBe(grpc.status.UNAUTHENTICATED);
    // Telling the caller which check failed helps an attacker; the log has it for the operator.
    expect(status.details).toBe("expected exactly one metadata value 'authorization: Bearer <valid token>'");
    expect(customer.responses).toEqual([]);
  });

  test('two valid Bearer values (sent raw: grpc-js will not send them) → UNAUTHENTICATED; one alone is accepted: init{} gets its session', async () => {
    const joe = `Bearer ${await tokenOf(rsa, 'joe', 'customer')}`;
    const ann = `Bearer ${await tokenOf(rsa, 'ann', 'customer')}`;
    const alone = await callWithAuthorization(server.address, '/Support/ChatCustomer', [joe], { request: frames.init() });
    expect(alone.reply && ChatCustomerResponse.decode(alone.reply).resp).toMatchObject({ $case: 'session', value: { customerName: 'joe' } });
    expect(await callWithAuthorization(server.address, '/Support/ChatCustomer', [joe, ann])).toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    expect(await callWithAuthorization(server.address, '/Support/ChatCustomer', [joe, joe])).toMatchObject({ code: grpc.status.UNAUTHENTICATED });
  });

  /**
   * The log lines of one refused stream: its start and end lines, found by the peer (client address
   * and port) of a connection of its own, so that no other test's line can stand in for them.
   */
  async function refusalLogLines(open: (client: SupportClient) => { endCode(): Promise<grpc.status> }): Promise<Record<string, unknown>[]> {
    const own = connect(server.address, { ownConnection: true });
    try {
      const peersBefore = new Set(server.logs.map((line) => line.peer));
      expect(await open(own).endCode()).toBe(grpc.status.UNAUTHENTICATED);
      const ownLines = () => server.logs.filter((line) => !peersBefore.has(line.peer));
      await waitFor(() => ownLines().some((line) => line.msg === 'stream ended'), 5000, 'the end line');
      return ownLines();
    } finally {
      own.close();
    }
  }

  test('each refusal logs why on its end line, without the token', async () => {
    const expired = await tokenOf(rsa, 'logged-joe', 'customer', { exp: now() - 3600 });
    const lines = await refusalLogLines((own) => new CustomerStream(own, 'joe', bearer(expired)));
    expect(lines.map((line) => line.msg)).toEqual(['stream started', 'stream ended']);
    expect(lines[1]).toMatchObject({ method: '/Support/ChatCustomer', code: 'UNAUTHENTICATED', auth_failure: 'ERR_JWT_EXPIRED' });
    expect(lines[1]!.user).toBeUndefined();
    expect(JSON.stringify(server.logs)).not.toContain(expired.split('.')[2]);
  });

  test("another service's token (same issuer and key, another 'aud') with role: agent is not an agent here: UNAUTHENTICATED", async () => {
    const token = await tokenOf(rsa, 'mallory', 'agent', { aud: 'billing' });
    let agent: AgentStream | undefined;
    const lines = await refusalLogLines((own) => {
      agent = new AgentStream(own, 'mallory', bearer(token));
      agent.sendAccept();
      return agent;
    });
    expect(agent!.responses).toEqual([]);
    expect(lines.map((line) => line.msg)).toEqual(['stream started', 'stream ended']);
    expect(lines[1]).toMatchObject({ method: '/Support/ChatAgent', code: 'UNAUTHENTICATED', auth_failure: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
    expect(lines[1]!.user).toBeUndefined();
  });

  test('a customer token on ChatAgent and an agent token on ChatCustomer → PERMISSION_DENIED', async () => {
    const customerOnAgent = new AgentStream(client, 'joe', bearer(await tokenOf(rsa, 'joe', 'customer')));
    expect(await customerOnAgent.endCode()).toBe(grpc.status.PERMISSION_DENIED);
    const agentOnCustomer = new CustomerStream(client, 'agent-smith', bearer(await tokenOf(rsa, 'agent-smith', 'agent')));
    expect(await agentOnCustomer.endCode()).toBe(grpc.status.PERMISSION_DENIED);
  });

  test("a customer cannot resume another customer's session: NOT_FOUND, as for an unknown id", async () => {
    const joe = new CustomerStream(client, 'joe', bearer(await tokenOf(rsa, 'joe', 'customer')));
    const { sessionId } = await joe.init();
    // Same sub in another case is another user: ids in tokens are not folded.
    for (const intruder of ['ann', 'JOE']) {
      const other = new CustomerStream(client, intruder, bearer(await tokenOf(rsa, intruder, 'customer')));
      other.sendInit(sessionId);
      const status = await other.ended();
      expect(status.code).toBe(grpc.status.NOT_FOUND);
      expect(other.responses).toEqual([]);
    }
    joe.send('still mine');
    joe.end();
    expect(await joe.endCode()).toBe(grpc.status.OK);
  });

  test('message text and tokens never reach the logs; user ids do', async () => {
    const token = await tokenOf(rsa, 'private-joe', 'customer');
    const customer = new CustomerStream(client, 'private-joe', bearer(token));
    const { sessionId } = await customer.init();
    const agent = new AgentStream(client, 'agent-x', bearer(await tokenOf(rsa, 'agent-x', 'agent')));
    await agent.accept(sessionId);
    customer.send('my PIN is 4711-secret');
    await agent.next();
    customer.end();
    agent.end();
    await customer.endCode();
    await agent.endCode();
    const logs = JSON.stringify(server.logs);
    expect(logs).toContain('"user":"private-joe"');
    expect(logs).not.toContain('4711-secret');
    for (const part of token.split('.')) expect(logs).not.toContain(part);
  });
});

describe('--auth jwt with each kind of key', () => {
  /** Starts a server with `flags`, and returns the status of a customer's init with `token`. */
  async function initWith(flags: string[], token: string): Promise<{ code: grpc.status; session: string | undefined }> {
    const audience = flags.includes('--jwt-allow-any-audience') ? [] : ['--jwt-audience', AUDIENCE];
    const server = await startTestServer(['--auth', 'jwt', ...audience, ...flags]);
    const client = connect(server.address);
    try {
      const customer = new CustomerStream(client, 'joe', bearer(token));
      customer.sendInit();
      await customer.take(1).catch(() => undefined);
      customer.end();
      const response = customer.responses[0]?.resp;
      return { code: await customer.endCode(), session: response?.$case === 'session' ? response.value.customerName : undefined };
    } finally {
      client.close();
      await server.stop();
    }
  }

  test('an HS256 secret file (its final newline is not part of the secret); another algorithm with the same secret is refused', async () => {
    expect(await initWith(['--jwt-secret-file', hmac.file], await tokenOf(hmac, 'joe', 'customer'))).toEqual({ code: grpc.status.OK, session: 'joe' });
    const hs512 = await tokenOf({ alg: 'HS512', key: hmac.key }, 'joe', 'customer');
    expect((await initWith(['--jwt-secret-file', hmac.file], hs512)).code).toBe(grpc.status.UNAUTHENTICATED);
    const rsaSigned = await tokenOf(rsa, 'joe', 'customer');
    expect((await initWith(['--jwt-secret-file', hmac.file], rsaSigned)).code).toBe(grpc.status.UNAUTHENTICATED);
  });

  test.each(['ES256', 'EdDSA', 'Ed25519'])('a %s public key file', async (alg) => {
    const pair = await generateKeyPair(alg, { extractable: true });
    const file = path.join(dir, `${alg}.pem`);
    fs.writeFileSync(file, await exportSPKI(pair.publicKey));
    const signer = { alg, key: pair.privateKey };
    expect(await initWith(['--jwt-public-key-file', file], await tokenOf(signer, 'joe', 'customer'))).toEqual({ code: grpc.status.OK, session: 'joe' });
    expect((await initWith(['--jwt-public-key-file', file], await tokenOf(rsa, 'joe', 'customer'))).code).toBe(grpc.status.UNAUTHENTICATED);
  });

  test('a JWKS file: a token signed by any of its keys is accepted, one signed by a key not in it is not', async () => {
    const ec = await generateKeyPair('ES256', { extractable: true });
    const jwks = {
      keys: [
        { ...(await exportJWK(await crypto.webcrypto.subtle.importKey('spki', pemBody(rsa.publicPem), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['verify']))), kid: 'rsa-1', alg: 'RS256' },
        { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256' },
      ],
    };
    const file = path.join(dir, 'jwks.json');
    fs.writeFileSync(file, JSON.stringify(jwks));
    const signWithKid = (signer: SigningKey, kid: string) =>
      new SignJWT({ sub: 'joe', role: 'customer', aud: AUDIENCE, exp: now() + 600 }).setProtectedHeader({ alg: signer.alg, kid }).sign(signer.key);
    expect((await initWith(['--jwt-jwks-file', file], await signWithKid(rsa, 'rsa-1'))).code).toBe(grpc.status.OK);
    expect((await initWith(['--jwt-jwks-file', file], await signWithKid({ alg: 'ES256', key: ec.privateKey }, 'ec-1'))).code).toBe(grpc.status.OK);
    expect((await initWith(['--jwt-jwks-file', file], await signWithKid(otherRsa, 'rsa-1'))).code).toBe(grpc.status.UNAUTHENTICATED);
  });

  test("--jwt-allow-any-audience takes a token whatever its 'aud', or without one", async () => {
    const flags = ['--jwt-public-key-file', files['rsa.pem']!, '--jwt-allow-any-audience'];
    expect((await initWith(flags, await tokenOf(rsa, 'joe', 'customer', { aud: 'billing' }))).code).toBe(grpc.status.OK);
    expect((await initWith(flags, await tokenOf(rsa, 'joe', 'customer', { aud: undefined }))).code).toBe(grpc.status.OK);
  });

  test('--jwt-role-claim names the claim that holds the role', async () => {
    const claim = 'https://support.example.com/role';
    const token = await tokenOf(rsa, 'joe', undefined, { [claim]: 'customer' });
    expect((await initWith(['--jwt-public-key-file', files['rsa.pem']!, '--jwt-role-claim', claim], token)).code).toBe(grpc.status.OK);
    expect((await initWith(['--jwt-public-key-file', files['rsa.pem']!], token)).code).toBe(grpc.status.UNAUTHENTICATED);
  });
});

describe('a stream opened with a JWT ends when the token expires', () => {
  let server: TestServer;
  let client: SupportClient;

  beforeEach(async () => {
    server = await startTestServer(['--auth', 'jwt', '--jwt-public-key-file', files['rsa.pem']!, '--jwt-issuer', ISSUER, '--jwt-audience', AUDIENCE]);
    client = connect(server.address);
  });
  afterEach(async () => {
    client.close();
    await server.stop();
  });

  /** When each stream's status arrived at the client (ms since the epoch). */
  function endTimes(...streams: { call: EventEmitter }[]): Map<unknown, number> {
    const times = new Map<unknown, number>();
    for (const stream of streams) stream.call.on('status', () => times.set(stream, Date.now()));
    return times;
  }

  test("customer and agent streams end with UNAUTHENTICATED at expiry, not before a fresh stream would be refused; the agent's session rejoins the queue; the end lines say why", async () => {
    // Verification tolerates 30 s of clock skew: these tokens are taken until (exp + 30) s, 3 to 4 s from now.
    const exp = now() - 26;
    const refusedFrom = (exp + 30) * 1000;
    const token = { joe: await tokenOf(rsa, 'joe', 'customer', { exp }), smith: await tokenOf(rsa, 'smith', 'agent', { exp }) };
    const customer = new CustomerStream(client, 'joe', bearer(token.joe));
    const agent = new AgentStream(client, 'smith', bearer(token.smith));
    const ended = endTimes(customer, agent);
    const { sessionId } = await customer.init();
    await agent.accept(sessionId);
    customer.send('before the expiry');
    expect(await nextDescribed(agent)).toBe('customer: before the expiry');

    for (const stream of [customer, agent]) {
      expect(await stream.ended(15_000)).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: 'the token expired; reconnect with a fresh one' });
      expect(ended.get(stream)).toBeGreaterThanOrEqual(refusedFrom);
    }
    // From then on the same token opens no stream: the end matched what verification accepts.
    const again = new CustomerStream(client, 'joe', bearer(token.joe));
    again.sendInit(sessionId);
    expect(await again.endCode()).toBe(grpc.status.UNAUTHENTICATED);

    // The agent was detached as by leave_session: with no agent left, the session awaits one again.
    const next = new AgentStream(client, 'jones', bearer(await tokenOf(rsa, 'jones', 'agent')));
    expect((await next.accept()).sessionId).toBe(sessionId);
    next.end();
    expect(await next.endCode()).toBe(grpc.status.OK);

    const endLine = (user: string) => server.logs.find((line) => line.msg === 'stream ended' && line.user === user);
    await waitFor(() => endLine('joe') !== undefined && endLine('smith') !== undefined, 5000, 'the end lines');
    const why = { code: 'UNAUTHENTICATED', auth_failure: 'ERR_JWT_EXPIRED', session: sessionId };
    expect(endLine('joe')).toMatchObject({ method: '/Support/ChatCustomer', ...why });
    expect(endLine('smith')).toMatchObject({ method: '/Support/ChatAgent', ...why });
    expect(server.liveState()).toMatchObject({ calls: 0 });
  });

  test('a token valid for ten years (past the longest timer) keeps its stream open', async () => {
    const customer = new CustomerStream(client, 'joe', bearer(await tokenOf(rsa, 'joe', 'customer', { exp: now() + 10 * 365 * 86400 })));
    const { sessionId } = await customer.init();
    const agent = new AgentStream(client, 'smith', bearer(await tokenOf(rsa, 'smith', 'agent', { exp: now() + 10 * 365 * 86400 })));
    await agent.accept(sessionId);
    // A timer past 2^31-1 ms would fire after 1 ms: by these round trips the streams would have ended.
    customer.send('still here');
    expect(await nextDescribed(agent)).toBe('customer: still here');
    agent.send('so am I');
    expect(describeCustomerResponse(await customer.next())).toBe('smith: so am I');
    customer.end();
    agent.end();
    expect(await customer.endCode()).toBe(grpc.status.OK);
    expect(await agent.endCode()).toBe(grpc.status.OK);
  });
});

function pemBody(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
}
