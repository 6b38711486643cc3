import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from '@jest/globals';
import { SignJWT } from 'jose';
import { runAdmin } from './helpers/admin-cli';
import { makeTestCertificates, type TestCertificates } from './helpers/test-certificates';
import { makeTempDir, removeTempDir, startTestServer, type TestServer } from './helpers/test-server';

// The admin command line takes the terminal apps' credential and TLS flags: a JWT file whose role
// claim says admin, over TLS with a private CA.

const dir = makeTempDir('support-admin-cli-tls-');
const secret = crypto.randomBytes(32);
let server: TestServer;
let certs: TestCertificates;

async function tokenFile(sub: string, role: string): Promise<string> {
  const file = path.join(dir, `${sub}.jwt`);
  const token = await new SignJWT({ sub, role, aud: 'support' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(secret);
  fs.writeFileSync(file, token);
  return file;
}

beforeAll(async () => {
  certs = await makeTestCertificates(dir);
  const secretFile = path.join(dir, 'secret');
  fs.writeFileSync(secretFile, secret);
  server = await startTestServer([
    '--auth', 'jwt', '--jwt-secret-file', secretFile, '--jwt-audience', 'support',
    '--tls-cert', certs.server.certFile, '--tls-key', certs.server.keyFile,
  ]);
});
afterAll(async () => {
  await server.stop();
  removeTempDir(dir);
});

test('--jwt-file with the admin role over --tls-ca: served; a customer token: PERMISSION_DENIED with the reason; plaintext to a TLS server: UNAVAILABLE', async () => {
  const tls = ['--server', server.address, '--tls-ca', certs.ca.certFile];
  const asAdmin = await runAdmin([...tls, '--jwt-file', await tokenFile('ops', 'admin'), 'queue']);
  expect(asAdmin).toEqual({ code: 0, stdout: 'awaiting         0\nattended         0\nagents attached  0\n', stderr: '' });
  const asCustomer = await runAdmin([...tls, '--jwt-file', await tokenFile('joe', 'customer'), 'sessions']);
  expect(asCustomer).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(/^admin: PERMISSION_DENIED: .*admin.*\n$/) });
  const plaintext = await runAdmin(['--server', server.address, '--jwt-file', await tokenFile('ops', 'admin'), 'queue']);
  expect(plaintext).toMatchObject({ code: 1, stderr: expect.stringMatching(/^admin: UNAVAILABLE: /) });
});
