import { z } from 'zod';
import { ChatError } from '../domain/chat-error';
import type { ChatAgentRequest, ChatCustomerRequest } from '../../gen/support';
import { decodeFailureOf } from './strict-decoding';

/** A validated ChatCustomer request. */
export type CustomerCommand = { kind: 'init'; resumeSessionId: string } | { kind: 'send'; text: string } | { kind: 'hang-up' };

/** A validated ChatAgent request. */
export type AgentCommand = { kind: 'accept'; sessionId: string } | { kind: 'send'; text: string } | { kind: 'leave' };

/** Parsers that turn decoded requests into commands, or throw `invalid-argument` naming the problem. */
export type RequestParsers = Readonly<{
  customer: (request: ChatCustomerRequest) => CustomerCommand;
  agent: (request: ChatAgentRequest) => AgentCommand;
}>;

const MAX_ID_LENGTH = 128;

/** Builds the edge validation of SPEC §3, §4 and §6 for message texts of at most `maxMessageBytes`. */
export function createRequestParsers(maxMessageBytes: number): RequestParsers {
  const sessionId = z.string().max(MAX_ID_LENGTH, `session ids are at most ${MAX_ID_LENGTH} characters`);
  const text = z
    .string()
    .refine((s) => s.length > 0, 'message text is empty')
    .refine((s) => Buffer.byteLength(s, 'utf8') <= maxMessageBytes, `message text is over ${maxMessageBytes} bytes`)
    .refine((s) => !/^\p{White_Space}*$/u.test(s), 'message text is only white space');
  const empty = z.unknown();

  const customer = z.discriminatedUnion('$case', [
    z.object({ $case: z.literal('init'), value: z.object({ resumeSessionId: sessionId }) })
      .transform((r): CustomerCommand => ({ kind: 'init', resumeSessionId: r.value.resumeSessionId })),
    z.object({ $case: z.literal('msg'), value: text }).transform((r): CustomerCommand => ({ kind: 'send', text: r.value })),
    z.object({ $case: z.literal('hangUp'), value: empty }).transform((): CustomerCommand => ({ kind: 'hang-up' })),
  ]);
  const agent = z.discriminatedUnion('$case', [
    z.object({ $case: z.literal('accept'), value: z.object({ sessionId }) })
      .transform((r): AgentCommand => ({ kind: 'accept', sessionId: r.value.sessionId })),
    z.object({ $case: z.literal('msg'), value: text }).transform((r): AgentCommand => ({ kind: 'send', text: r.value })),
    z.object({ $case: z.literal('leaveSession'), value: empty }).transform((): AgentCommand => ({ kind: 'leave' })),
  ]);

  return {
    customer: (request) => parse(customer, requestOneof(request)),
    agent: (request) => parse(agent, requestOneof(request)),
  };
}

/** The set member of a request's `req` oneof. */
function requestOneof<R>(request: { req: R | undefined }): R {
  const failure = decodeFailureOf(request);
  if (failure !== undefined) throw new ChatError('invalid-argument', `the request could not be decoded: ${failure}`);
  if (request.req === undefined) throw new ChatError('invalid-argument', 'the request sets none of its fields');
  return request.req;
}

function parse<T>(schema: z.ZodType<T>, oneof: unknown): T {
  const result = schema.safeParse(oneof);
  if (!result.success) throw new ChatError('invalid-argument', result.error.issues[0]?.message ?? 'invalid request');
  return result.data;
}
