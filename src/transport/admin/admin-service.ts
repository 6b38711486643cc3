import type { SupportAdminServiceServer } from '../../../gen/support/admin/v1/admin';
import type { AdminEnvironment } from './admin-call';
import { notYetImplementedStreaming, notYetImplementedUnary } from './not-yet-implemented';

/** The admin service's handlers (proto/support/admin/v1/admin.proto), each behind the admin gate. */
export function createAdminService(env: AdminEnvironment): SupportAdminServiceServer {
  return {
    listSessions: notYetImplementedUnary(env),
    getSession: notYetImplementedUnary(env),
    getQueueStatistics: notYetImplementedUnary(env),
    watchQueue: notYetImplementedStreaming(env),
    endSession: notYetImplementedUnary(env),
    eraseCustomer: notYetImplementedUnary(env),
    exportSessions: notYetImplementedStreaming(env),
  };
}
