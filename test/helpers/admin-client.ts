import * as grpc from '@grpc/grpc-js';
import { SupportAdminServiceClient } from '../../gen/support/admin/v1/admin';

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

type UnaryMethod<Req, Res> = (request: Req, metadata: grpc.Metadata, callback: (err: grpc.ServiceError | null, response: Res) => void) => grpc.ClientUnaryCall;

/** Calls a unary method of `client` as a promise. */
export function unary<Req, Res>(client: SupportAdminServiceClient, method: UnaryMethod<Req, Res>, request: Req, metadata: grpc.Metadata): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, request, metadata, (err, response) => (err ? reject(err) : resolve(response)));
  });
}

/** The status a unary call ends with (OK when it answers). */
export async function unaryCode<Req, Res>(client: SupportAdminServiceClient, method: UnaryMethod<Req, Res>, request: Req, metadata: grpc.Metadata): Promise<grpc.status> {
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
