import crypto from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ConfigError, type Config } from '../config/config';
import { readConfigFile } from '../config/read-config-file';

export type Transport = 'plaintext' | 'tls' | 'mtls';

/** How the server listens: plaintext, TLS (--tls-cert/--tls-key), or TLS requiring client certificates (--tls-client-ca). */
export type ServerTransport = Readonly<{ kind: Transport; credentials: grpc.ServerCredentials; certificateExpires?: string }>;

/**
 * Reads and checks the TLS files before anything else starts, so that a wrong path, a file that
 * is not PEM, or a key that does not belong to the certificate is a clear start-up error rather
 * than a handshake failure seen by the first client.
 */
export function loadServerTransport(config: Config): ServerTransport {
  if (config.tlsCert === undefined || config.tlsKey === undefined) {
    return { kind: 'plaintext', credentials: grpc.ServerCredentials.createInsecure() };
  }
  const certChain = readConfigFile(config.tlsCert, '--tls-cert');
  const privateKey = readConfigFile(config.tlsKey, '--tls-key');
  const certificate = parse(() => pemCertificate(certChain), `--tls-cert ${config.tlsCert}: not a PEM certificate`);
  const key = parse(() => pemPrivateKey(privateKey), `--tls-key ${config.tlsKey}: not a PEM private key`);
  if (!certificate.checkPrivateKey(key)) {
    throw new ConfigError(`--tls-key ${config.tlsKey} is not the key of the certificate in --tls-cert ${config.tlsCert}`);
  }
  const clientCa = config.tlsClientCa === undefined ? null : readConfigFile(config.tlsClientCa, '--tls-client-ca');
  if (clientCa) parse(() => pemCertificate(clientCa), `--tls-client-ca ${config.tlsClientCa}: not a PEM certificate`);
  const credentials = grpc.ServerCredentials.createSsl(clientCa, [{ cert_chain: certChain, private_key: privateKey }], clientCa !== null);
  return { kind: clientCa ? 'mtls' : 'tls', credentials, certificateExpires: certificate.validTo };
}


// grpc-js takes PEM only, while Node's parsers also take DER: a DER file would pass their check and
// then fail at bind time (or, as a client CA, silently refuse every client).
function pemCertificate(bytes: Buffer): crypto.X509Certificate {
  if (!bytes.includes('-----BEGIN CERTIFICATE-----')) throw new Error('not PEM');
  return new crypto.X509Certificate(bytes);
}

function pemPrivateKey(bytes: Buffer): crypto.KeyObject {
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(bytes.toString('latin1'))) throw new Error('not PEM');
  return crypto.createPrivateKey(bytes);
}

function parse<T>(read: () => T, message: string): T {
  try {
    return read();
  } catch {
    throw new ConfigError(message);
  }
}
