import type { ServiceDefinition } from '@grpc/grpc-js';
import { ChatAgentRequest, ChatCustomerRequest, SupportService, type SupportServer } from '../../gen/support';
import { strictDeserializer } from '../transport/strict-decoding';

/**
 * The generated Support service definition with request decoders that reject invalid UTF-8 and
 * never throw (see strict-decoding.ts); paths, serializers and types are the generated ones.
 */
export const strictSupportService = {
  chatCustomer: {
    ...SupportService.chatCustomer,
    requestDeserialize: strictDeserializer((reader) => ChatCustomerRequest.decode(reader)),
  },
  chatAgent: {
    ...SupportService.chatAgent,
    requestDeserialize: strictDeserializer((reader) => ChatAgentRequest.decode(reader)),
  },
} satisfies ServiceDefinition<SupportServer>;
