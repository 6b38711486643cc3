import * as grpc from '@grpc/grpc-js';
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

/** A generated admin client on `address`; close it with `close()`. */
export function connectAdmin(address: string): SupportAdminServiceClient {
  return new SupportAdminServiceClient(address, grpc.credentials.createInsecure());
}

/** Metadata `authorization: token <user>`, or none at all without a user. */
export function demoToken(user?: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (user !== undefined) metadata.set('authorization', `token ${user}`);
  return metadata;
}

/** The unary methods of the admin service, with their request and response types. */
type UnaryMethods = {
  listSessions: [ListSessionsRequest, ListSessionsResponse];
  getSession: [GetSessionRequest, GetSessionResponse];
  getQueueStatistics: [GetQueueStatisticsRequest, GetQueueStatisticsResponse];
  endSession: [EndSessionRequest, EndSessionResponse];
  eraseCustomer: [EraseCustomerRequest, EraseCustomerResponse];
};
type Callback<Res> = (err: grpc.ServiceError | null, response: Res) => void;

/** Calls unary method `method` of `client` as a promise. */
export function unary<M extends keyof UnaryMethods>(client: SupportAdminServiceClient, method: M, request: UnaryMethods[M][0], metadata: grpc.Metadata): Promise<UnaryMethods[M][1]> {
  const call = client[method] as unknown as (request: UnaryMethods[M][0], metadata: grpc.Metadata, callback: Callback<UnaryMethods[M][1]>) => grpc.ClientUnaryCall;
  return new Promise((resolve, reject) => {
    call.call(client, request, metadata, (err, response) => (err ? reject(err) : resolve(response)));
  });
}

/** The status a unary call ends with (OK when it answers). */
export async function unaryCode<M extends keyof UnaryMethods>(client: SupportAdminServiceClient, method: M, request: UnaryMethods[M][0], metadata: grpc.Metadata): Promise<grpc.status> {
  try {
    await unary(client, method, request, metadata);
    return grpc.status.OK;
  } catch (err) {
    return (err as grpc.ServiceError).code;
  }
}

/** Reads a server stream to its end: its responses and final status. */
export function readStream<Res>(call: grpc.ClientReadableStream<Res>): Promise<{ responses: Res[]; status: grpc.StatusObject }> {
  const responses: Res[] = [];
  call.on('data', (response: Res) => responses.push(response));
  call.on('error', () => {}); // the status event carries it
  return new Promise((resolve) => call.on('status', (status: grpc.StatusObject) => resolve({ responses, status })));
}

/** Waits until the async `condition` holds, asking again every few milliseconds; fails after `timeoutMs` naming `what`. */
export async function waitUntil(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
