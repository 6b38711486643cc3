import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { SupportClient } from '../gen/support';
import { connect, CustomerStream } from './helpers/chat-client';
import { logRecords, spawnServer, waitForListening, type ServerProcess } from './helpers/server-process';
import { connectWith, makeTestCertificates, tlsCredentials, type TestCertificates } from './helpers/test-certificates';
import { makeTempDir, removeTempDir } from './helpers/test-server';
import { waitFor } from './helpers/wait';

/** The security checks of start-up, against the built server (dist/src/main.js) as a child process. */

let dir: string;
let certs: TestCertificates;
/** Key and config files of the cases, by name. */
const files: Record<string, string> = {};

type Refusal = { args: string[]; names: string[] };

/** jwt mode with its required audience: the cases below are about the key files. */
const JWT = ['--auth', 'jwt', '--jwt-audience', 'support-chat'];

/**
 * Each case: its flags (file names resolved in beforeAll) and what its one stderr line must name.
 * The flag that is wrong comes first in `names`.
 */
const refusals: Record<string, (f: Record<string, string>) => Refusal> = {
  'demo auth on --host 0.0.0.0': () => ({ args: ['--host', '0.0.0.0'], names: ['--host', '0.0.0.0', '--insecure-demo-auth'] }),
  'demo auth on --host ::': () => ({ args: ['--host', '::'], names: ['--host', '--insecure-demo-auth'] }),
  '--tls-cert without --tls-key': (f) => ({ args: ['--tls-cert', f.serverCert!], names: ['--tls-cert', '--tls-key'] }),
  '--tls-client-ca without --tls-cert': (f) => ({ args: ['--tls-client-ca', f.caCert!], names: ['--tls-client-ca', '--tls-cert'] }),
  'a missing --tls-cert file': (f) => ({ args: ['--tls-cert', f.missing!, '--tls-key', f.serverKey!], names: ['--tls-cert', f.missing!] }),
  'a --tls-cert file that is not PEM (text)': (f) => ({ args: ['--tls-cert', f.text!, '--tls-key', f.serverKey!], names: ['--tls-cert', f.text!] }),
  // A DER certificate is a valid certificate but not PEM, which is all grpc-js can use.
  'a --tls-cert file that is not PEM (DER)': (f) => ({ args: ['--tls-cert', f.serverDer!, '--tls-key', f.serverKey!], names: ['--tls-cert', f.serverDer!] }),
  'a --tls-key file that is not a key': (f) => ({ args: ['--tls-cert', f.serverCert!, '--tls-key', f.serverCert!], names: ['--tls-key'] }),
  'a --tls-key that does not belong to the certificate': (f) => ({
    args: ['--tls-cert', f.serverCert!, '--tls-key', f.clientKey!],
    names: ['--tls-key', f.clientKey!],
  }),
  'a missing --tls-client-ca file': (f) => ({
    args: ['--tls-cert', f.serverCert!, '--tls-key', f.serverKey!, '--tls-client-ca', f.missing!],
    names: ['--tls-client-ca', f.missing!],
  }),
  'a --tls-client-ca file that is not PEM (DER)': (f) => ({
    args: ['--tls-cert', f.serverCert!, '--tls-key', f.serverKey!, '--tls-client-ca', f.caDer!],
    names: ['--tls-client-ca', f.caDer!],
  }),
  '--auth jwt without a key file': () => ({ args: ['--auth', 'jwt'], names: ['--auth jwt', '--jwt-secret-file', '--jwt-public-key-file', '--jwt-jwks-file'] }),
  // 31 bytes and the newline an editor adds: the newline is not part of the secret.
  '--auth jwt with a secret shorter than 32 bytes': (f) => ({ args: [...JWT, '--jwt-secret-file', f.shortSecret!], names: ['--jwt-secret-file', '32'] }),
  '--auth jwt with a missing secret file': (f) => ({ args: [...JWT, '--jwt-secret-file', f.missing!], names: ['--jwt-secret-file', f.missing!] }),
  '--jwt-public-key-file pointing at a private key': (f) => ({
    args: [...JWT, '--jwt-public-key-file', f.serverKey!],
    names: ['--jwt-public-key-file', f.serverKey!],
  }),
  'a --jwt-jwks-file that is not JSON': (f) => ({ args: [...JWT, '--jwt-jwks-file', f.notJson!], names: ['--jwt-jwks-file', f.notJson!] }),
  // With an identity provider shared by several services, another service's token would be taken.
  '--auth jwt without --jwt-audience': (f) => ({
    args: ['--auth', 'jwt', '--jwt-secret-file', f.goodSecret!],
    names: ['--jwt-audience', '--jwt-allow-any-audience'],
  }),
  '--jwt-secret-file with demo auth': (f) => ({ args: ['--jwt-secret-file', f.goodSecret!], names: ['--jwt-secret-file', '--auth jwt'] }),
  // SPEC §8: combinations of the store options that cannot go together.
  '--db with a --store that names PostgreSQL': () => ({ args: ['--store', 'postgres://127.0.0.1:5432/test'], names: ['--db', '--store'] }),
  '--bus postgres with SQLite': () => ({ args: ['--bus', 'postgres'], names: ['--bus postgres'] }),
};

type Outcome = { server: ServerProcess; dataDir: string; refusal: Refusal; code: number | string };
const outcomes = new Map<string, Outcome>();
const started: ServerProcess[] = [];

beforeAll(async () => {
  dir = makeTempDir('support-security-startup-');
  certs = await makeTestCertificates(dir);
  const write = (name: string, content: string | Buffer) => {
    fs.writeFileSync(path.join(dir, name), content);
    return path.join(dir, name);
  };
  Object.assign(files, {
    serverCert: certs.server.certFile,
    serverKey: certs.server.keyFile,
    clientKey: certs.client.keyFile,
    caCert: certs.ca.certFile,
    serverDer: write('server.der', new crypto.X509Certificate(certs.server.cert).raw),
    caDer: write('ca.der', new crypto.X509Certificate(certs.ca.cert).raw),
    missing: path.join(dir, 'no-such-file.pem'),
    text: write('not-pem.pem', 'this is not a certificate\n'),
    shortSecret: write('short-secret', crypto.randomBytes(16).toString('hex').slice(0, 31) + '\n'),
    // Hex, so that no byte is a final newline the server strips (random bytes ended in \n 1 time in 256, and fell short of 32).
    goodSecret: write('good-secret', crypto.randomBytes(32).toString('hex')),
    notJson: write('jwks.json', '{"keys": [ this is not JSON'),
  });
  // A few refusals at a time (each child exits as soon as it has checked its flags): all at once
  // could starve each other on a busy 2-core machine.
  const pending = Object.entries(refusals).map(([name, make], index) => ({ name, make, index }));
  const runNext = async (): Promise<void> => {
    for (let next = pending.shift(); next; next = pending.shift()) {
      const { name, make, index } = next;
      const refusal = make(files);
      const dataDir = path.join(dir, `refused-${index}`);
      const server = spawnServer(['--port', '0', '--db', path.join(dataDir, 'support.db'), ...refusal.args], { cwd: dir });
      started.push(server);
      // A server that wrongly starts must not hang the file: it is stopped once it listens.
      await waitFor(() => server.exitCode() !== undefined || server.stdout.some((line) => line.includes('listening on')), 15_000, `${name} to exit`);
      if (server.exitCode() === undefined) server.child.kill('SIGKILL');
      await server.exited;
      const listened = server.stdout.some((line) => line.includes('listening on'));
      outcomes.set(name, { server, dataDir, refusal, code: listened ? 'listening' : server.exitCode()! });
    }
  };
  await Promise.all([runNext(), runNext(), runNext(), runNext()]);
}, 120_000);

afterAll(async () => {
  for (const server of started) if (server.exitCode() === undefined) server.child.kill('SIGKILL');
  await Promise.all(started.map((server) => server.exited));
  removeTempDir(dir);
});

describe('refused at start-up: exit 2, one stderr line naming the flag, no database', () => {
  test.each(Object.keys(refusals))('%s', (name) => {
    const { server, dataDir, refusal, code } = outcomes.get(name)!;
    // One object, so a failure shows everything the process said.
    expect({ code, stderr: server.stderr }).toEqual({ code: 2, stderr: [expect.stringMatching(/^support: /)] });
    for (const named of refusal.names) expect(server.stderr[0]).toContain(named);
    // Not even the database's folder: the checks run before the database is opened.
    expect(fs.existsSync(dataDir)).toBe(false);
  });
});

describe('starts, and says how it is secured', () => {
  let clients: SupportClient[] = [];

  afterEach(async () => {
    for (const client of clients) client.close();
    clients = [];
    // Stop what this test started; a clean SIGTERM exit is part of it.
    const running = started.filter((server) => server.exitCode() === undefined);
    for (const server of running) server.child.kill('SIGTERM');
    expect(await Promise.all(running.map((server) => server.exited))).toEqual(running.map(() => 0));
  });

  async function start(args: string[]): Promise<{ server: ServerProcess; port: number; records: Record<string, unknown>[] }> {
    const server = spawnServer(['--port', '0', '--db', path.join(makeTempDirIn(dir), 'support.db'), ...args], { cwd: dir });
    started.push(server);
    const port = await waitForListening(server);
    return { server, port, records: logRecords(server) };
  }

  /** A customer on `address` gets a session: the server really serves there. */
  async function expectServes(client: SupportClient, user: string): Promise<void> {
    clients.push(client);
    const customer = new CustomerStream(client, user);
    expect((await customer.init()).customerName).toBe(user);
    customer.end();
    expect(await customer.endCode()).toBe(grpc.status.OK);
  }

  const listening = (records: Record<string, unknown>[]) => records.findIndex((r) => String(r.msg).startsWith('listening on'));
  const warnings = (records: Record<string, unknown>[]) => records.filter((r) => r.level === 'warn').map((r) => String(r.msg));

  test('--host 0.0.0.0 --insecure-demo-auth starts, warning (before listening) about demo auth and about plaintext', async () => {
    const { port, records } = await start(['--host', '0.0.0.0', '--insecure-demo-auth']);
    expect(records[listening(records)]).toMatchObject({ msg: `listening on 0.0.0.0:${port}`, auth: 'demo', transport: 'plaintext' });
    const warned = warnings(records);
    expect(warned).toEqual([expect.stringMatching(/demo auth/), expect.stringMatching(/without TLS|plaintext|clear text/)]);
    expect(warned[0]).toContain('--insecure-demo-auth');
    // The warnings come before the line that says the server accepts calls.
    const lastWarning = records.map((r) => r.level).lastIndexOf('warn');
    expect(lastWarning).toBeLessThan(listening(records));
    await expectServes(connect(`127.0.0.1:${port}`, { ownConnection: true }), 'anyone');
  });

  test('--host 0.0.0.0 --insecure-demo-auth with TLS warns about demo auth only', async () => {
    const { port, records } = await start(['--host', '0.0.0.0', '--insecure-demo-auth', '--tls-cert', files.serverCert!, '--tls-key', files.serverKey!]);
    expect(records[listening(records)]).toMatchObject({ auth: 'demo', transport: 'tls' });
    expect(warnings(records)).toEqual([expect.stringMatching(/demo auth/)]);
    await expectServes(connectWith(`localhost:${port}`, tlsCredentials(certs.ca.cert)), 'anyone-tls');
  });

  test('--auth jwt on --host 0.0.0.0 needs no --insecure-demo-auth; it warns about plaintext only', async () => {
    const { records } = await start(['--host', '0.0.0.0', ...JWT, '--jwt-secret-file', files.goodSecret!]);
    expect(records[listening(records)]).toMatchObject({ auth: 'jwt', transport: 'plaintext' });
    expect(warnings(records)).toEqual([expect.stringMatching(/without TLS|plaintext|clear text/)]);
  });

  test('--auth jwt with --jwt-allow-any-audience instead of --jwt-audience starts, warning (before listening) that any audience is taken', async () => {
    const { records } = await start(['--auth', 'jwt', '--jwt-secret-file', files.goodSecret!, '--jwt-allow-any-audience']);
    expect(records[listening(records)]).toMatchObject({ auth: 'jwt', transport: 'plaintext' });
    const warned = warnings(records);
    expect(warned).toEqual([expect.stringContaining("whatever their 'aud'")]);
    expect(warned[0]).toContain('--jwt-allow-any-audience');
    expect(records.map((r) => r.level).lastIndexOf('warn')).toBeLessThan(listening(records));
  });

  test.each([
    ['::1', (port: number) => `[::1]:${port}`],
    ['localhost', (port: number) => `localhost:${port}`],
    ['127.0.0.1', (port: number) => `127.0.0.1:${port}`],
  ])('--host %s starts in demo mode without --insecure-demo-auth, with no warning', async (host, address) => {
    const { port, records } = await start(['--host', host]);
    expect(records[listening(records)]).toMatchObject({ msg: `listening on ${address(port)}`, auth: 'demo', transport: 'plaintext' });
    expect(warnings(records)).toEqual([]);
    // The demo-mode security line is still there, before the listening line.
    const security = records.findIndex((r) => r.level === 'info' && String(r.msg).startsWith('demo auth'));
    expect(security).toBeGreaterThanOrEqual(0);
    expect(security).toBeLessThan(listening(records));
    await expectServes(connect(address(port), { ownConnection: true }), `on-${host}`);
  });

  // isLoopbackHost takes the bracketed form, so the server must be able to listen on it too.
  test('--host [::1] (bracketed) starts in demo mode and serves', async () => {
    const { port } = await start(['--host', '[::1]']);
    await expectServes(connect(`[::1]:${port}`, { ownConnection: true }), 'on-bracketed');
  });
});

/** A fresh folder inside `parent` for one server's database. */
function makeTempDirIn(parent: string): string {
  return fs.mkdtempSync(path.join(parent, 'server-'));
}
