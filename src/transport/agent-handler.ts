import type { ServerDuplexStream } from '@grpc/grpc-js';
import { AgentConversation } from '../domain/agent-conversation';
import type { ChatContext } from '../domain/chat-context';
import type { ChatAgentRequest, ChatAgentResponse } from '../../gen/support';
import { toCallStatus } from './grpc-status';
import { toAgentResponse } from './proto-mapping';
import type { RequestParsers } from './request-schemas';
import { serveCall, type CallEnvironment } from './serve-call';

/** The ChatAgent method (SPEC §4): requests in order, each validated, then applied to the conversation. */
export function createAgentHandler(chat: ChatContext, parsers: RequestParsers, env: CallEnvironment) {
  return (call: ServerDuplexStream<ChatAgentRequest, ChatAgentResponse>): Promise<void> =>
    serveCall(call, env, 'agent', async (stream, identity, reportSession) => {
      const conversation = new AgentConversation(chat, identity.userId, {
        id: stream.id,
        push: (output) => stream.push(toAgentResponse(output)),
        abort: (error) => stream.end(toCallStatus(error)),
      });
      reportSession(() => conversation.lastSessionId);
      stream.signal.addEventListener('abort', () => {
        conversation.close().catch((err: unknown) => env.logger.error('agent detach failed', { error: String(err) }));
      });
      for await (const request of stream.requests()) {
        const command = parsers.agent(request);
        if (command.kind === 'accept') await conversation.accept(command.sessionId);
        else if (command.kind === 'send') await conversation.send(command.text);
        else await conversation.leave();
      }
    });
}
