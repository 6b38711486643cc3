import { Metadata } from '@grpc/grpc-js';
import { ChatError } from '../../domain/chat-error';
import type { QueueEvent, QueueEventKind, QueueEvents } from '../../domain/queue-events';
import { QueueEventKind as ProtoKind, type WatchQueueRequest, type WatchQueueResponse } from '../../../gen/support/admin/v1/admin';
import type { AdminStreamBody } from './admin-call';

/**
 * Events a watch may have written that its client has not read yet. A dashboard reads them as
 * they come; one that does not read must not make the server hold its events without bound, so
 * its watch ends (RESOURCE_EXHAUSTED) at this many, a few hundred kilobytes.
 */
export const WATCH_BACKLOG = 2_000;

const KINDS: Record<QueueEventKind, ProtoKind> = {
  waiting: ProtoKind.QUEUE_EVENT_KIND_WAITING,
  taken: ProtoKind.QUEUE_EVENT_KIND_TAKEN,
  ended: ProtoKind.QUEUE_EVENT_KIND_ENDED,
};

/**
 * WatchQueue: the response headers go out once the watch has started (every change from then on
 * is sent), then one response per change until the client cancels. It ends with UNAVAILABLE when
 * events may have been missed (another instance could not be heard), and RESOURCE_EXHAUSTED when
 * the client falls WATCH_BACKLOG events behind.
 */
export function watchQueue(queue: QueueEvents): AdminStreamBody<WatchQueueRequest, WatchQueueResponse> {
  return async (_request, call, signal) => {
    let unsent = 0;
    let failed: (error: ChatError) => void = () => {};
    const failure = new Promise<never>((_, reject) => (failed = reject));
    failure.catch(() => {}); // awaited below; this only keeps an early failure from counting as unhandled
    const stop = await queue.watch({
      onEvent: (event) => {
        if (unsent >= WATCH_BACKLOG) return failed(new ChatError('resource-exhausted', `this watch fell ${WATCH_BACKLOG} events behind the queue; read faster, or watch again`));
        unsent++;
        call.write(toResponse(event), () => unsent--);
      },
      onMissed: () => failed(new ChatError('unavailable', "some of the queue's changes could not be received; watch again")),
    });
    try {
      call.sendMetadata(new Metadata());
      const cancelled = new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
      await Promise.race([cancelled, failure]);
    } finally {
      stop();
    }
  };
}

function toResponse(event: QueueEvent): WatchQueueResponse {
  return { kind: KINDS[event.kind], sessionId: event.sessionId, customerId: event.customerId, time: event.at };
}
