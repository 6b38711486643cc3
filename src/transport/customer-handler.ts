import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { ChatContext } from '../domain/chat-context';
import { CustomerConversation, type CustomerOutput } from '../domain/customer-conversation';
import { ChatCustomerResponse, type ChatCustomerRequest } from '../../gen/support';
import { toCustomerResponse } from './proto-mapping';
import type { RequestParsers } from './request-schemas';
import type { CallEnvironment } from './serve-call';
import { serveConversation } from './serve-conversation';

/** The ChatCustomer method (SPEC §3). */
export function createCustomerHandler(
  context: ChatContext,
  parsers: RequestParsers,
  env: CallEnvironment,
): (call: ServerDuplexStream<ChatCustomerRequest, ChatCustomerResponse>) => void {
  return serveConversation(env, {
    role: 'customer',
    open: (userId, port) => new CustomerConversation(context, userId, port),
    encode: (output: CustomerOutput) => {
      env.metrics.entryDelivered(output.entry.date); // every output is an agent's entry
      return ChatCustomerResponse.encode(toCustomerResponse(output)).finish();
    },
    apply: (conversation, request: ChatCustomerRequest, join) => {
      const command = parsers.customer(request);
      if (command.kind === 'init') {
        join();
        return conversation.init(command.resumeSessionId);
      }
      if (command.kind === 'send') return conversation.send(command.text);
      return conversation.hangUp();
    },
  });
}
