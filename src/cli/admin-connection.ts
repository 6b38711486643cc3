import type { Metadata, ServiceError } from '@grpc/grpc-js';
import { SupportAdminServiceClient } from '../../gen/support/admin/v1/admin';
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
  const identity = callIdentity(credentials, tls, address);
  const client = new SupportAdminServiceClient(address, identity.channel, tls === undefined ? {} : serverNamingOf(address).channelOptions);
  return { client, address, metadata: identity.metadata };
}

type UnaryMethod<Req, Res> = (request: Req, metadata: Metadata, callback: (error: ServiceError | null, response: Res) => void) => unknown;

/** Calls a unary admin method; rejects with the server's ServiceError. */
export async function callUnary<Req, Res>(connection: AdminConnection, method: UnaryMethod<Req, Res>, request: Req): Promise<Res> {
  const metadata = await connection.metadata();
  return new Promise((resolve, reject) => {
    method.call(connection.client, request, metadata, (error, response) => (error ? reject(error) : resolve(response)));
  });
}
