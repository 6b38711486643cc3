import type { Metadata } from '@grpc/grpc-js';
import { ChatError } from '../domain/chat-error';

/** A caller's role in the chat; `admin` (jwt mode's admin tokens) has none of the chat methods. */
export type Role = 'customer' | 'agent' | 'admin';

/**
 * Who is calling: the user id (a session's `customer_name`, an entry's `agent_name`), the role,
 * and whether it may call the admin service (demo ids starting with `admin` are customers in the
 * chat and admins too, SPEC §1). `expiresAt` (ms since the epoch) is when the credential that
 * proved it stops being accepted: a stream must not outlive it. Demo identities have none.
 */
export type Identity = Readonly<{ userId: string; role: Role; admin: boolean; expiresAt?: number }>;

/** Turns a call's metadata into an identity; one implementation per `--auth` mode. */
export interface Authenticator {
  /** How a caller of the wrong role can tell which role its credentials give, for PERMISSION_DENIED. */
  readonly roleHint: string;
  /** How a caller refused by the admin service can tell what makes an admin. */
  readonly adminHint: string;
  /** Throws an AuthenticationError when the credentials are missing, repeated, malformed or invalid. */
  identify(metadata: Metadata): Promise<Identity>;
}

/**
 * Missing or invalid credentials. `message` is what the client sees; `reason` is for the log only,
 * since telling a caller why its token failed helps an attacker more than an honest client.
 */
export class AuthenticationError extends ChatError {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super('unauthenticated', message);
  }
}

/**
 * A stream outlived its credential. The reason is jose's code for a token refused as expired, so
 * that one search of the log finds both (only signed tokens expire).
 */
export function credentialExpired(): AuthenticationError {
  return new AuthenticationError('the token expired; reconnect with a fresh one', 'ERR_JWT_EXPIRED');
}

/** A user id, in either mode: 1 to 128 printable characters without white space (SPEC §1). */
export const USER_ID_PATTERN = /^[^\p{White_Space}\p{C}]{1,128}$/u;

/**
 * The one credential in `authorization: <scheme> <credential>` (scheme case-insensitive), or
 * undefined when the header is missing, repeated or of another shape.
 */
export function credentialOf(metadata: Metadata, scheme: string): string | undefined {
  const values = metadata.get('authorization');
  if (values.length !== 1 || typeof values[0] !== 'string') return undefined;
  const value = values[0];
  const prefix = `${scheme} `;
  return value.length > prefix.length && value.slice(0, prefix.length).toLowerCase() === prefix.toLowerCase()
    ? value.slice(prefix.length)
    : undefined;
}

/** Checks that `identity` may call a method meant for `role`. */
export function requireRole(identity: Identity, role: Role, hint: string): Identity {
  if (identity.role !== role) throw new ChatError('permission-denied', `this method is for ${role}s; ${hint}`);
  return identity;
}

/** Checks that `identity` may call the admin service. */
export function requireAdmin(identity: Identity, hint: string): Identity {
  if (!identity.admin) throw new ChatError('permission-denied', `the admin service is for admins; ${hint}`);
  return identity;
}
