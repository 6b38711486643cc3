import { credentials as grpcCredentials, Metadata, type ChannelCredentials } from '@grpc/grpc-js';
import { status as Status } from '@grpc/grpc-js';
import { ChatClientError } from './chat-client-error';
import type { ServerNaming } from './tls-server-name';

/**
 * Who the client is: the demo token (`authorization: token <id>`), or a signed JWT (`authorization:
 * Bearer <jwt>`). A JWT expires, the server ends a stream when its token does, and the chat may
 * reconnect hours later: give a function instead, called before each connection attempt for a
 * current token, with the user id (the tokens' `sub`). With a function, a stream ended at its
 * token's expiry is resumed with a fresh token; with a fixed token, that end is final.
 */
export type ChatCredentials =
  | Readonly<{ token: string }>
  | Readonly<{ bearer: string }>
  | Readonly<{ bearer: () => string | Promise<string>; userId: string }>;

/** TLS for the channel: `true` for the system's root CAs, or PEM files' contents (client cert and key for mTLS). */
export type TlsOptions =
  | true
  | Readonly<{
      rootCa?: Buffer | string;
      cert?: Buffer | string;
      key?: Buffer | string;
    }>;

/** What every call of a chat carries. */
export type CallIdentity = Readonly<{
  channel: ChannelCredentials;
  /** Fresh metadata for one call (grpc-js may modify the object it is given); rejects if no token could be had. */
  metadata: () => Promise<Metadata>;
  /** This user's id as the server records it in entries. */
  userId: string;
  /** `metadata` asks a token function each time: a call refused for an expired token may be retried. */
  renewable: boolean;
}>;

/**
 * grpc-js credentials and metadata for `credentials` over `tls`. The authorization goes in call
 * metadata rather than in call credentials because grpc-js refuses call credentials on an
 * insecure channel, and the demo mode runs on plain loopback.
 */
export function callIdentity(credentials: ChatCredentials, tls: TlsOptions | undefined, naming: ServerNaming): CallIdentity {
  const header = async () => ('token' in credentials ? `token ${credentials.token}` : `Bearer ${await bearerOf(credentials)}`);
  return {
    channel: channelCredentials(tls, naming),
    metadata: async () => {
      const metadata = new Metadata();
      metadata.set('authorization', await header());
      return metadata;
    },
    userId: userIdOf(credentials),
    renewable: 'bearer' in credentials && typeof credentials.bearer === 'function',
  };
}

function userIdOf(credentials: ChatCredentials): string {
  if ('token' in credentials) return credentials.token.toLowerCase();
  return 'userId' in credentials ? credentials.userId : jwtSubject(credentials.bearer);
}

async function bearerOf(credentials: Exclude<ChatCredentials, { token: string }>): Promise<string> {
  return typeof credentials.bearer === 'string' ? credentials.bearer : credentials.bearer();
}

function channelCredentials(tls: TlsOptions | undefined, naming: ServerNaming): ChannelCredentials {
  if (tls === undefined) return grpcCredentials.createInsecure();
  const { checkServerIdentity } = naming;
  const verify = checkServerIdentity ? { checkServerIdentity } : {};
  if (tls === true) return grpcCredentials.createSsl(null, null, null, verify);
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new ChatClientError(Status.INVALID_ARGUMENT, 'a TLS client certificate and its key go together');
  }
  return grpcCredentials.createSsl(asBuffer(tls.rootCa), asBuffer(tls.key), asBuffer(tls.cert), verify);
}

function asBuffer(pem: Buffer | string | undefined): Buffer | null {
  if (pem === undefined) return null;
  return typeof pem === 'string' ? Buffer.from(pem) : pem;
}

/**
 * The JWT's `sub`, which the server uses as the user id. It is read, not verified: the server
 * verifies; the client only needs it to recognise its own entries in a history.
 */
export function jwtSubject(jwt: string): string {
  const payload = jwt.split('.')[1];
  try {
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as { sub?: unknown };
    if (typeof claims.sub === 'string' && claims.sub.length > 0) return claims.sub;
  } catch {
    // reported below
  }
  throw new ChatClientError(Status.INVALID_ARGUMENT, "the bearer token is not a JWT with a 'sub' claim");
}
