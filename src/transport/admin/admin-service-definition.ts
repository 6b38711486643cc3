import type { ServiceDefinition } from '@grpc/grpc-js';
import {
  EndSessionRequest,
  EraseCustomerRequest,
  ExportSessionsRequest,
  GetQueueStatisticsRequest,
  GetSessionRequest,
  ListSessionsRequest,
  SupportAdminServiceService,
  WatchQueueRequest,
  type SupportAdminServiceServer,
} from '../../../gen/support/admin/v1/admin';
import { strictDeserializer } from '../strict-decoding';

const S = SupportAdminServiceService;

/**
 * The generated admin service definition with request decoders that reject invalid UTF-8 and never
 * throw (strict-decoding.ts): undecodable bytes are the caller's INVALID_ARGUMENT, not INTERNAL.
 */
export const strictAdminService = {
  listSessions: { ...S.listSessions, requestDeserialize: strictDeserializer((r) => ListSessionsRequest.decode(r)) },
  getSession: { ...S.getSession, requestDeserialize: strictDeserializer((r) => GetSessionRequest.decode(r)) },
  getQueueStatistics: { ...S.getQueueStatistics, requestDeserialize: strictDeserializer((r) => GetQueueStatisticsRequest.decode(r)) },
  watchQueue: { ...S.watchQueue, requestDeserialize: strictDeserializer((r) => WatchQueueRequest.decode(r)) },
  endSession: { ...S.endSession, requestDeserialize: strictDeserializer((r) => EndSessionRequest.decode(r)) },
  eraseCustomer: { ...S.eraseCustomer, requestDeserialize: strictDeserializer((r) => EraseCustomerRequest.decode(r)) },
  exportSessions: { ...S.exportSessions, requestDeserialize: strictDeserializer((r) => ExportSessionsRequest.decode(r)) },
} satisfies ServiceDefinition<SupportAdminServiceServer>;
