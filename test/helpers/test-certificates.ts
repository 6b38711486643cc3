import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { SupportClient } from '../../gen/support';

const run = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';

/** A certificate and its key, as files and as PEM bytes. */
export type KeyPair = Readonly<{ certFile: string; keyFile: string; cert: Buffer; key: Buffer }>;

/** Everything a TLS test needs, made in `dir` (removed with the caller's temp dir). */
export type TestCertificates = Readonly<{
  dir: string;
  /** The CA that signed `server` and `client`. */
  ca: KeyPair;
  /** Signed by `ca`; subjectAltName DNS:localhost, IP:127.0.0.1. */
  server: KeyPair;
  /** A client certificate signed by `ca`. */
  client: KeyPair;
  /** A CA unrelated to `ca`. */
  otherCa: KeyPair;
  /** A client certificate signed by `otherCa`. */
  otherClient: KeyPair;
}>;

/**
 * Makes two CAs and the certificates signed by them with the `openssl` CLI. EC P-256 keys, so the
 * whole set takes a few tens of milliseconds. A minimal config file keeps the system's openssl.cnf
 * (and its default extensions) out of it: each certificate carries exactly the extensions given.
 */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  const config = path.join(dir, 'openssl.cnf');
  fs.writeFileSync(config, '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n');
  const [ca, otherCa] = await Promise.all([makeCa(dir, config, 'ca', 'Support Test CA'), makeCa(dir, config, 'other-ca', 'Unrelated Test CA')]);
  const [server, client, otherClient] = await Promise.all([
    makeLeaf(dir, config, ca, 'server', 'localhost', ['subjectAltName=DNS:localhost,IP:127.0.0.1', 'extendedKeyUsage=serverAuth']),
    makeLeaf(dir, config, ca, 'client', 'support-client', ['extendedKeyUsage=clientAuth']),
    makeLeaf(dir, config, otherCa, 'other-client', 'support-client', ['extendedKeyUsage=clientAuth']),
  ]);
  return { dir, ca, server, client, otherCa, otherClient };
}

async function makeCa(dir: string, config: string, name: string, commonName: string): Promise<KeyPair> {
  const certFile = path.join(dir, `${name}.pem`);
  const keyFile = path.join(dir, `${name}.key`);
  await run(OPENSSL, [
    'req', '-config', config, '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${commonName}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return read(certFile, keyFile);
}

async function makeLeaf(dir: string, config: string, ca: KeyPair, name: string, commonName: string, extensions: string[]): Promise<KeyPair> {
  const certFile = path.join(dir, `${name}.pem`);
  const keyFile = path.join(dir, `${name}.key`);
  await run(OPENSSL, [
    'req', '-config', config, '-x509', '-CA', ca.certFile, '-CAkey', ca.keyFile,
    '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${commonName}`,
    '-addext', 'basicConstraints=critical,CA:FALSE', ...extensions.flatMap((extension) => ['-addext', extension]),
  ]);
  return read(certFile, keyFile);
}

function read(certFile: string, keyFile: string): KeyPair {
  return { certFile, keyFile, cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) };
}

/** TLS channel credentials trusting `ca`, presenting `clientPair` when given. */
export function tlsCredentials(ca: Buffer, clientPair?: KeyPair): grpc.ChannelCredentials {
  return clientPair ? grpc.credentials.createSsl(ca, clientPair.key, clientPair.cert) : grpc.credentials.createSsl(ca);
}

/**
 * A generated Support client on `address` with `credentials`, on its own connection (so a refused
 * handshake of one client never shares, or spoils, another's). Close it with `client.close()`.
 */
export function connectWith(address: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions = {}): SupportClient {
  return new SupportClient(address, credentials, { 'grpc.use_local_subchannel_pool': 1, ...options });
}
