import type { Metadata, ServiceError } from '@grpc/grpc-js';
import {
  SupportAdminServiceClient,
  type EndSessionRequest,
  type EndSessionResponse,
  type EraseCustomerRequest,
  type EraseCustomerResponse,
  type GetQueueStatisticsRequest,
  type GetQueueStatisticsResponse,
  type GetSessionRequest,
  type GetSessionResponse,
  type ListSessionsRequest,
  type ListSessionsResponse,
} from '../../gen/support/admin/v1/admin';
import { callIdentity } from '../client/credentials';
import { serverNamingOf } from '../client/tls-server-name';
import { connectionFrom } from './chat-options-from-cli';
import type { ConnectionOptions } from './cli-options';

/** A connection to the admin service, as the connection flags say, and the metadata of each call. */
export type AdminConnection = Readonly<{
  client: SupportAdminServiceClient;
  address: string;
  /** Fresh metadata for one call (a --jwt-file is read again each time). */
  metadata: () => Promise<Metadata>;
}>;

export function openAdminConnection(options: ConnectionOptions): AdminConnection {
  const { address, credentials, tls } = connectionFrom(options);
  const naming = serverNamingOf(address, undefined);
  const identity = callIdentity(credentials, tls, naming);
  const client = new SupportAdminServiceClient(address, identity.channel, tls === undefined ? {} : naming.channelOptions);
  return { client, address, metadata: identity.metadata };
}

/** The unary methods of the admin service, with their request and response types. */
type UnaryMethods = {
  listSessions: [ListSessionsRequest, ListSessionsResponse];
  getSession: [GetSessionRequest, GetSessionResponse];
  getQueueStatistics: [GetQueueStatisticsRequest, GetQueueStatisticsResponse];
  endSession: [EndSessionRequest, EndSessionResponse];
  eraseCustomer: [EraseCustomerRequest, EraseCustomerResponse];
};
type Callback<Res> = (error: ServiceError | null, response: Res) => void;

/** Calls unary admin method `method`; rejects with the server's ServiceError. */
export async function callUnary<M extends keyof UnaryMethods>(connection: AdminConnection, method: M, request: UnaryMethods[M][0]): Promise<UnaryMethods[M][1]> {
  const metadata = await connection.metadata();
  const { client } = connection;
  // The generated method has overloads; this is the one with metadata and a callback.
  const call = client[method].bind(client) as unknown as (request: UnaryMethods[M][0], metadata: Metadata, callback: Callback<UnaryMethods[M][1]>) => unknown;
  return new Promise((resolve, reject) => {
    call(request, metadata, (error, response) => (error ? reject(error) : resolve(response)));
  });
}
