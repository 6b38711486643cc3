import { status as Status, type handleServerStreamingCall } from '@grpc/grpc-js';
import { toCallStatus } from '../grpc-status';
import { admit, endStream, type AdminEnvironment } from './admin-call';

// The admin streams whose handlers are still being written (WatchQueue, ExportSessions): they
// admit admins like the others, then answer UNIMPLEMENTED. This file goes once both have theirs.

const DETAILS = 'this admin method is not implemented yet';

export function notYetImplementedStreaming(env: AdminEnvironment): handleServerStreamingCall<object, never> {
  return (call) => {
    admit(env.authenticator, call.metadata, {}).then(
      () => endStream(call, { code: Status.UNIMPLEMENTED, details: DETAILS }),
      (err: unknown) => endStream(call, toCallStatus(err)),
    );
  };
}
