import fs from 'node:fs';
import { jwtSubject, type ChatCredentials, type ChatOptions, type TlsOptions } from '../client';
import { UsageError, type CommonOptions, type ConnectionOptions } from './cli-options';

/** The library's options for the flags both apps share; reads the JWT and PEM files named. */
export function chatOptionsFrom(options: CommonOptions): ChatOptions {
  return {
    ...connectionFrom(options),
    backoff: { initialMs: options.retryInitialMs, maxMs: options.retryMaxMs },
    giveUp: { maxElapsedMs: options.giveUpAfterS * 1000 },
  };
}

/** The server, credentials and TLS that the connection flags name (the terminal apps', the admin command line's). */
export function connectionFrom(options: ConnectionOptions): Required<Pick<ChatOptions, 'address' | 'credentials'>> & Pick<ChatOptions, 'tls'> {
  const credentials = options.jwtFile ? jwtFileCredentials(options.jwtFile, options.user) : { token: demoUser(options.user) };
  return { address: options.server, credentials, tls: tlsFrom(options) };
}

/**
 * The JWT in `file`, read again before each connection attempt: a token that a login helper renews
 * on disk is picked up at the next reconnect, so a chat outlives its first token's expiry.
 */
function jwtFileCredentials(file: string, user: string | undefined): ChatCredentials {
  const read = () => readFile(file, '--jwt-file').trim();
  const userId = jwtSubject(read());
  // The server knows the caller by the token's sub alone: a --user naming someone else would be ignored.
  if (user !== undefined && user !== userId) {
    throw new UsageError(`--user ${user} is not the user of the --jwt-file token (${userId}); leave --user out with --jwt-file`);
  }
  return { bearer: read, userId };
}

function demoUser(user: string | undefined): string {
  if (user === undefined) throw new UsageError('missing --user (or --jwt-file) (see --help)');
  return user;
}

function tlsFrom(options: ConnectionOptions): TlsOptions | undefined {
  const { tls, tlsCa, tlsCert, tlsKey } = options;
  if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (!tls && tlsCa === undefined && tlsCert === undefined) return undefined;
  if (tlsCa === undefined && tlsCert === undefined) return true;
  return {
    rootCa: tlsCa === undefined ? undefined : readFile(tlsCa, '--tls-ca'),
    cert: tlsCert === undefined ? undefined : readFile(tlsCert, '--tls-cert'),
    key: tlsKey === undefined ? undefined : readFile(tlsKey, '--tls-key'),
  };
}

function readFile(file: string, flag: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
