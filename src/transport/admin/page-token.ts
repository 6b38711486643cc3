import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ChatError } from '../../domain/chat-error';
import type { ListPosition, SessionFilter } from '../../domain/session-administration';

/**
 * ListSessions' page tokens: opaque to callers (base64url of a small JSON object), they carry the
 * position after which the next page starts and a fingerprint of the filters they were made for,
 * so that a token handed back with other filters is refused instead of silently skipping rows.
 */

/** 8 bytes of SHA-256, in base64url. */
const FINGERPRINT_LENGTH = 11;

const tokenSchema = z.object({
  c: z.number().int(),
  k: z.number().int().nonnegative(),
  f: z.string().length(FINGERPRINT_LENGTH),
});

/** Longer than any token this server makes: refused before it is decoded. */
export const MAX_PAGE_TOKEN_LENGTH = 200;

export function encodePageToken(position: ListPosition, filter: SessionFilter): string {
  const token: z.infer<typeof tokenSchema> = { c: position.createdAt, k: position.key, f: fingerprint(filter) };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

/** The position in `token` (undefined for an empty one); `invalid-argument` if it is not one of ours for `filter`. */
export function decodePageToken(token: string, filter: SessionFilter): ListPosition | undefined {
  if (token === '') return undefined;
  let parsed;
  try {
    parsed = tokenSchema.safeParse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) throw new ChatError('invalid-argument', 'page_token is not a token this server gave');
  if (parsed.data.f !== fingerprint(filter)) throw new ChatError('invalid-argument', 'page_token was given for other filters; send the same filters with it');
  return { createdAt: parsed.data.c, key: parsed.data.k };
}

function fingerprint(filter: SessionFilter): string {
  const canonical = JSON.stringify([filter.state, filter.customerId, filter.agentId, filter.createdAfter?.getTime(), filter.createdBefore?.getTime()]);
  return createHash('sha256').update(canonical).digest().subarray(0, 8).toString('base64url');
}
