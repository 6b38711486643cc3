import type { ServiceDefinition } from '@grpc/grpc-js';
import { ChatAgentRequest, ChatAgentResponse, ChatCustomerRequest, ChatCustomerResponse, SupportService, type SupportServer } from '../../gen/support';
import { strictDeserializer } from '../transport/strict-decoding';

/**
 * The generated Support service definition with request decoders that reject invalid UTF-8 and
 * never throw (see strict-decoding.ts), and response encoders that pass through responses the
 * handlers already encoded (they count the bytes queued per stream). Paths are the generated ones.
 */
export const strictSupportService = {
  chatCustomer: {
    ...SupportService.chatCustomer,
    requestDeserialize: strictDeserializer((reader) => ChatCustomerRequest.decode(reader)),
    responseSerialize: passThroughEncoded<ChatCustomerResponse>,
  },
  chatAgent: {
    ...SupportService.chatAgent,
    requestDeserialize: strictDeserializer((reader) => ChatAgentRequest.decode(reader)),
    responseSerialize: passThroughEncoded<ChatAgentResponse>,
  },
} satisfies ServiceDefinition<SupportServer>;

/**
 * The response serializer: handlers write every response already encoded (call-stream.ts), so its
 * bytes go out as they are. Typed as taking the message, since the generated definition says so;
 * a handler that wrote a message unencoded is a bug, and fails here.
 */
function passThroughEncoded<T>(response: T): Buffer {
  if (!(response instanceof Uint8Array)) throw new TypeError('a Support response was written unencoded');
  return Buffer.from(response.buffer, response.byteOffset, response.byteLength);
}
