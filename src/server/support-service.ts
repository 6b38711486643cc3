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
    responseSerialize: passThroughEncoded((response: ChatCustomerResponse) => ChatCustomerResponse.encode(response).finish()),
  },
  chatAgent: {
    ...SupportService.chatAgent,
    requestDeserialize: strictDeserializer((reader) => ChatAgentRequest.decode(reader)),
    responseSerialize: passThroughEncoded((response: ChatAgentResponse) => ChatAgentResponse.encode(response).finish()),
  },
} satisfies ServiceDefinition<SupportServer>;

/** A response serializer that leaves already-encoded bytes as they are. */
function passThroughEncoded<T>(encode: (response: T) => Uint8Array): (response: T | Uint8Array) => Buffer {
  return (response) => {
    const bytes = response instanceof Uint8Array ? response : encode(response);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}
