import type { ServerDuplexStream } from '@grpc/grpc-js';
import { AgentConversation } from '../domain/agent-conversation';
import type { ChatContext } from '../domain/chat-context';
import { ChatAgentResponse, type ChatAgentRequest } from '../../gen/support';
import { toAgentResponse } from './proto-mapping';
import type { RequestParsers } from './request-schemas';
import type { CallEnvironment } from './serve-call';
import { serveConversation } from './serve-conversation';

/** The ChatAgent method (SPEC §4). */
export function createAgentHandler(
  chat: ChatContext,
  parsers: RequestParsers,
  env: CallEnvironment,
): (call: ServerDuplexStream<ChatAgentRequest, ChatAgentResponse>) => Promise<void> {
  return serveConversation(env, {
    role: 'agent',
    open: (userId, port) => new AgentConversation(chat, userId, port),
    toResponse: toAgentResponse,
    encode: (response) => ChatAgentResponse.encode(response).finish(),
    apply: (conversation, request: ChatAgentRequest) => {
      const command = parsers.agent(request);
      if (command.kind === 'accept') return conversation.accept(command.sessionId);
      if (command.kind === 'send') return conversation.send(command.text);
      return conversation.leave();
    },
  });
}
