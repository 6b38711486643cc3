import crypto from 'node:crypto';
import { createLocalJWKSet, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { ConfigError, type Config } from '../config/config';
import { readConfigFile } from '../config/read-config-file';

/** What verifies a token's signature, and the only algorithms accepted with it. */
export type VerificationKeys = Readonly<{
  key: crypto.KeyObject | Uint8Array | JWTVerifyGetKey;
  /** Pinned per key type, so a token cannot pick its own algorithm (`none`, or HS256 keyed with a public key). */
  algorithms: string[];
}>;

/** A shorter HMAC key is guessable offline from any token (RFC 7518 §3.2 asks for at least the hash size). */
const MIN_SECRET_BYTES = 32;
const ASYMMETRIC_ALGORITHMS = ['RS256', 'ES256', 'EdDSA', 'Ed25519'];

/** Loads the key given by --jwt-secret-file, --jwt-public-key-file or --jwt-jwks-file; bad files throw ConfigError. */
export function loadVerificationKeys(config: Config): VerificationKeys {
  if (config.jwtSecretFile !== undefined) return secretKey(config.jwtSecretFile);
  if (config.jwtPublicKeyFile !== undefined) return publicKey(config.jwtPublicKeyFile);
  if (config.jwtJwksFile !== undefined) return keySet(config.jwtJwksFile);
  throw new ConfigError('--auth jwt needs a key file');
}

function secretKey(file: string): VerificationKeys {
  // Editors and `echo` end files with a newline that is not part of the secret.
  const secret = stripFinalNewline(readConfigFile(file, '--jwt-secret-file'));
  if (secret.length < MIN_SECRET_BYTES) {
    throw new ConfigError(`--jwt-secret-file ${file}: the secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return { key: new Uint8Array(secret), algorithms: ['HS256'] };
}

function publicKey(file: string): VerificationKeys {
  const pem = readConfigFile(file, '--jwt-public-key-file').toString('utf8');
  if (pem.includes('PRIVATE KEY')) {
    throw new ConfigError(`--jwt-public-key-file ${file} holds a private key; give the server only the public key`);
  }
  let key: crypto.KeyObject;
  try {
    key = crypto.createPublicKey(pem);
  } catch {
    throw new ConfigError(`--jwt-public-key-file ${file}: not a PEM public key or certificate`);
  }
  return { key, algorithms: algorithmsOf(key, file) };
}

/** The algorithm a public key is used with (Ed25519 goes by two names: EdDSA, and the newer fully-specified Ed25519). */
function algorithmsOf(key: crypto.KeyObject, file: string): string[] {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType === 'rsa') return ['RS256'];
  if (key.asymmetricKeyType === 'ec' && curve === 'prime256v1') return ['ES256'];
  if (key.asymmetricKeyType === 'ed25519') return ['EdDSA', 'Ed25519'];
  throw new ConfigError(`--jwt-public-key-file ${file}: unsupported key type ${key.asymmetricKeyType}${curve ? ` ${curve}` : ''} (use RSA, P-256 or Ed25519)`);
}

const jwksSchema = z.object({
  keys: z.array(z.looseObject({ kty: z.enum(['RSA', 'EC', 'OKP']) })).min(1),
});

function keySet(file: string): VerificationKeys {
  const text = readConfigFile(file, '--jwt-jwks-file').toString('utf8');
  let parsed;
  try {
    parsed = jwksSchema.safeParse(JSON.parse(text));
  } catch {
    throw new ConfigError(`--jwt-jwks-file ${file}: not JSON`);
  }
  if (!parsed.success) {
    throw new ConfigError(`--jwt-jwks-file ${file}: expected {"keys": [...]} of public RSA, EC or OKP keys`);
  }
  if (parsed.data.keys.some((jwk) => 'd' in jwk)) {
    throw new ConfigError(`--jwt-jwks-file ${file} holds a private key; give the server only public keys`);
  }
  try {
    return { key: createLocalJWKSet(parsed.data), algorithms: ASYMMETRIC_ALGORITHMS };
  } catch (err) {
    throw new ConfigError(`--jwt-jwks-file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}


function stripFinalNewline(bytes: Buffer): Buffer {
  let end = bytes.length;
  if (bytes[end - 1] === 0x0a) end--;
  if (bytes[end - 1] === 0x0d) end--;
  return bytes.subarray(0, end);
}
