import { status as Status, type handleServerStreamingCall, type handleUnaryCall } from '@grpc/grpc-js';
import { toCallStatus } from '../grpc-status';
import { admit, endStream, type AdminEnvironment } from './admin-call';

// The admin methods whose handlers are still being written: they admit admins like the others,
// then answer UNIMPLEMENTED. This file goes once every method has its handler.

const DETAILS = 'this admin method is not implemented yet';

export function notYetImplementedUnary(env: AdminEnvironment): handleUnaryCall<object, never> {
  return (call, callback) => {
    admit(env.authenticator, call.metadata, {}).then(
      () => callback({ code: Status.UNIMPLEMENTED, details: DETAILS }),
      (err: unknown) => callback(toCallStatus(err)),
    );
  };
}

export function notYetImplementedStreaming(env: AdminEnvironment): handleServerStreamingCall<object, never> {
  return (call) => {
    admit(env.authenticator, call.metadata, {}).then(
      () => endStream(call, { code: Status.UNIMPLEMENTED, details: DETAILS }),
      (err: unknown) => endStream(call, toCallStatus(err)),
    );
  };
}
