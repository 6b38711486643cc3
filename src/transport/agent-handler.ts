import type { ServerDuplexStream } from '@grpc/grpc-js';
import { AgentConversation, type AgentOutput } from '../domain/agent-conversation';
import type { ChatContext } from '../domain/chat-context';
import type { Entry } from '../domain/entry';
import { ChatAgentResponse, type ChatAgentRequest } from '../../gen/support';
import { toAgentResponse } from './proto-mapping';
import type { RequestParsers } from './request-schemas';
import { reuseLastResult } from './reuse-last-result';
import type { CallEnvironment } from './serve-call';
import { serveConversation } from './serve-conversation';

/** The ChatAgent method (SPEC §4). */
export function createAgentHandler(
  context: ChatContext,
  parsers: RequestParsers,
  env: CallEnvironment,
): (call: ServerDuplexStream<ChatAgentRequest, ChatAgentResponse>) => void {
  const encode = (output: AgentOutput) => ChatAgentResponse.encode(toAgentResponse(output)).finish();
  // An entry goes to every agent of its session, one stream after another: encoded once for all.
  const encodeEntry = reuseLastResult((entry: Entry) => encode({ kind: 'entry', entry }));
  return serveConversation(env, {
    role: 'agent',
    open: (userId, port) => new AgentConversation(context, userId, port),
    encode: (output: AgentOutput) => {
      if (output.kind !== 'entry') return encode(output);
      env.metrics.entryDelivered(output.entry.date);
      return encodeEntry(output.entry);
    },
    apply: (conversation, request: ChatAgentRequest, join) => {
      const command = parsers.agent(request);
      if (command.kind === 'accept') {
        join();
        return conversation.accept(command.sessionId);
      }
      if (command.kind === 'send') return conversation.send(command.text);
      return conversation.leave();
    },
  });
}
