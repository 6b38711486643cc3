import type { ChatContext } from './chat-context';
import type { QueueEventKind } from './queue-events';

/**
 * Tells the queue's watchers that `sessionId` changed (after the change has committed). Without
 * `customerId` (a step that never read the session) it is read from the store first; a session
 * erased meanwhile is not announced, and one whose read fails is announced without its customer
 * (the change has happened: the step that made it must not fail for this).
 */
export async function announceQueueChange(ctx: Pick<ChatContext, 'queue' | 'store' | 'now'>, kind: QueueEventKind, sessionId: string, customerId?: string): Promise<void> {
  const customer = customerId ?? (await ctx.store.findSession(sessionId).then((session) => session?.customerId, () => ''));
  if (customer !== undefined) ctx.queue.publish({ kind, sessionId, customerId: customer, at: ctx.now() });
}
