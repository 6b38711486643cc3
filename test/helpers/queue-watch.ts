import type * as grpc from '@grpc/grpc-js';
import { QueueEventKind, type SupportAdminServiceClient, type WatchQueueResponse } from '../../gen/support/admin/v1/admin';
import { demoToken } from './admin-client';
import { waitFor } from './wait';

/** A WatchQueue call, recorded: its events described as "<kind> <session> <customer>", and its end. */
export type QueueWatch = Readonly<{
  call: grpc.ClientReadableStream<WatchQueueResponse>;
  responses: WatchQueueResponse[];
  seen: () => string[];
  status: () => grpc.StatusObject | undefined;
  /** Waits until `count` events have come. */
  waitForEvents: (count: number, timeoutMs?: number) => Promise<string[]>;
}>;

export const describeQueueEvent = (r: WatchQueueResponse) => `${QueueEventKind[r.kind].replace('QUEUE_EVENT_KIND_', '').toLowerCase()} ${r.sessionId} ${r.customerId}`;

/** Starts a watch as `user` and resolves once the server has started it (its response headers came). */
export async function watchQueue(client: SupportAdminServiceClient, user = 'admin-ops'): Promise<QueueWatch> {
  const call = client.watchQueue({}, demoToken(user));
  const responses: WatchQueueResponse[] = [];
  let status: grpc.StatusObject | undefined;
  call.on('data', (response: WatchQueueResponse) => responses.push(response));
  call.on('error', () => {}); // the status event carries it
  call.on('status', (s: grpc.StatusObject) => (status = s));
  await new Promise<void>((resolve, reject) => {
    call.once('metadata', () => resolve());
    call.once('status', (s: grpc.StatusObject) => reject(new Error(`the watch ended before it started: ${s.code} ${s.details}`)));
  });
  const seen = () => responses.map(describeQueueEvent);
  return {
    call,
    responses,
    seen,
    status: () => status,
    waitForEvents: async (count, timeoutMs = 10_000) => {
      await waitFor(() => responses.length >= count || status !== undefined, timeoutMs, `${count} queue events (seen: ${seen().join(', ')})`);
      return seen();
    },
  };
}
