import { randomBytes } from 'node:crypto';

/** A new session id: 128 bits from the CSPRNG, base64url (22 URL-safe characters). */
export function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}
