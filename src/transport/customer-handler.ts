import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { ChatContext } from '../domain/chat-context';
import { CustomerConversation } from '../domain/customer-conversation';
import type { ChatCustomerRequest, ChatCustomerResponse } from '../../gen/support';
import { toCallStatus } from './grpc-status';
import { toCustomerResponse } from './proto-mapping';
import type { RequestParsers } from './request-schemas';
import { serveCall, type CallEnvironment } from './serve-call';

/** The ChatCustomer method (SPEC §3): requests in order, each validated, then applied to the conversation. */
export function createCustomerHandler(chat: ChatContext, parsers: RequestParsers, env: CallEnvironment) {
  return (call: ServerDuplexStream<ChatCustomerRequest, ChatCustomerResponse>): Promise<void> =>
    serveCall(call, env, 'customer', async (stream, identity, reportSession) => {
      const conversation = new CustomerConversation(chat, identity.userId, {
        id: stream.id,
        push: (output) => stream.push(toCustomerResponse(output)),
        abort: (error) => stream.end(toCallStatus(error)),
      });
      reportSession(() => conversation.lastSessionId);
      stream.signal.addEventListener('abort', () => {
        conversation.close().catch((err: unknown) => env.logger.error('customer detach failed', { error: String(err) }));
      });
      for await (const request of stream.requests()) {
        const command = parsers.customer(request);
        if (command.kind === 'init') await conversation.init(command.resumeSessionId);
        else if (command.kind === 'send') await conversation.send(command.text);
        else await conversation.hangUp();
      }
    });
}
