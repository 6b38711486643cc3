import { z } from 'zod';
import { USER_ID_PATTERN } from '../../auth/identity';
import { ChatError } from '../../domain/chat-error';
import type { ListPosition, SessionFilter, SessionState } from '../../domain/session-administration';
import { SessionState as ProtoSessionState, type EndSessionRequest, type EraseCustomerRequest, type GetSessionRequest, type ListSessionsRequest } from '../../../gen/support/admin/v1/admin';
import { decodePageToken, MAX_PAGE_TOKEN_LENGTH } from './page-token';

/** A validated ListSessions request. */
export type ListSessionsQuery = Readonly<{ filter: SessionFilter; limit: number; after: ListPosition | undefined }>;

/** Sessions per page when the request leaves page_size at 0, and the most a page holds. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

const MAX_ID_LENGTH = 128;

const sessionId = z.string().min(1, 'session_id is empty').max(MAX_ID_LENGTH, `session ids are at most ${MAX_ID_LENGTH} characters`);
const userId = (field: string) => z.string().regex(USER_ID_PATTERN, `${field} is not a user id (1 to 128 printable characters, no white space)`);
/** An unset string filter is empty; an unset Timestamp is undefined (an invalid one decodes as an invalid Date). */
const optionalUserId = (field: string) => z.union([z.literal('').transform(() => undefined), userId(field)]);
const optionalTime = (field: string) => z.date({ error: `${field} is not a valid time` }).optional();

const STATES: Record<number, SessionState | undefined> = {
  [ProtoSessionState.SESSION_STATE_UNSPECIFIED]: undefined,
  [ProtoSessionState.SESSION_STATE_AWAITING]: 'awaiting',
  [ProtoSessionState.SESSION_STATE_ATTENDED]: 'attended',
  [ProtoSessionState.SESSION_STATE_ENDED]: 'ended',
};

const listSessions = z.object({
  state: z.number().refine((n) => n in STATES, 'state is not a SessionState').transform((n) => STATES[n]),
  customerId: optionalUserId('customer_id'),
  agentId: optionalUserId('agent_id'),
  createdAfter: optionalTime('created_after'),
  createdBefore: optionalTime('created_before'),
  // Larger sizes are served as the largest (AIP-158): a tool asking for "everything" gets pages.
  pageSize: z.number().int().nonnegative('page_size is negative').transform((n) => (n === 0 ? DEFAULT_PAGE_SIZE : Math.min(n, MAX_PAGE_SIZE))),
  pageToken: z.string().max(MAX_PAGE_TOKEN_LENGTH, 'page_token is not a token this server gave'),
});

/** ListSessions' filters, page size and position; `invalid-argument` naming the first bad field. */
export function parseListSessions(request: ListSessionsRequest): ListSessionsQuery {
  const { state, customerId, agentId, createdAfter, createdBefore, pageSize, pageToken } = parse(listSessions, request);
  const filter: SessionFilter = withoutUndefined({ state, customerId, agentId, createdAfter, createdBefore });
  return { filter, limit: pageSize, after: decodePageToken(pageToken, filter) };
}

export function parseSessionId(request: GetSessionRequest | EndSessionRequest): string {
  return parse(z.object({ sessionId }), request).sessionId;
}

export function parseCustomerId(request: EraseCustomerRequest): string {
  return parse(z.object({ customerId: userId('customer_id') }), request).customerId;
}

function parse<T>(schema: z.ZodType<T>, request: unknown): T {
  const result = schema.safeParse(request);
  if (!result.success) throw new ChatError('invalid-argument', result.error.issues[0]?.message ?? 'invalid request');
  return result.data;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
