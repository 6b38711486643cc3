import type { Metadata } from '@grpc/grpc-js';
import { z } from 'zod';
import { ChatError } from '../domain/chat-error';

/** Who is calling, from the `authorization: token <id>` metadata (SPEC §1). */
export type Identity = Readonly<{ userId: string; role: 'customer' | 'agent' }>;

// "token", case-insensitive, one space, then 1..128 printable characters without white space.
const authorizationValue = z
  .string()
  .regex(/^token ([^\p{White_Space}\p{C}]{1,128})$/iu)
  .transform((value) => value.slice('token '.length).toLowerCase());

/**
 * Reads the caller's identity and checks it may use a method of `role`, from the metadata alone:
 * `unauthenticated` if the header is missing, repeated or malformed, `permission-denied` if the
 * id is of the other role.
 */
export function authenticate(metadata: Metadata, role: Identity['role']): Identity {
  const values = metadata.get('authorization');
  const parsed = values.length === 1 ? authorizationValue.safeParse(values[0]) : undefined;
  if (!parsed?.success) {
    throw new ChatError('unauthenticated', "expected exactly one metadata value 'authorization: token <id>'");
  }
  const userId = parsed.data;
  const callerRole = userId.startsWith('agent') ? 'agent' : 'customer';
  if (callerRole !== role) {
    throw new ChatError('permission-denied', `this method is for ${role}s; ids of agents start with "agent"`);
  }
  return { userId, role };
}
