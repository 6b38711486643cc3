import type { ChatContext } from './chat-context';
import { announceQueueChange } from './queue-changes';

/** How many idle sessions one sweep ends at most, so that a backlog never blocks the event loop for long. */
const SWEEP_BATCH = 500;

/**
 * Ends the open sessions that no customer is attached to and whose last activity (last entry, or
 * the customer detaching) is at least `idleTimeoutMs` old (SPEC §6); their agents get
 * session_ended. Works from the database, so time while the server was down counts. Returns how
 * many sessions it ended.
 */
export async function endIdleSessions(ctx: ChatContext, idleTimeoutMs: number): Promise<number> {
  const now = ctx.now();
  // Attached customers are active: recorded now, so that if the server dies without recording their
  // detach, the idle timeout counts from about then after the restart, not from their last entry.
  const attached = ctx.attachments.localSessionsWithCustomer();
  if (attached.length > 0) await ctx.store.recordCustomerPresence(attached, now);
  const cutoff = new Date(now.getTime() - idleTimeoutMs);
  const candidates = await ctx.store.findIdleSessions(cutoff, SWEEP_BATCH);
  let ended = 0;
  for (const sessionId of candidates) {
    if (await ctx.attachments.hasCustomer(sessionId)) continue; // attached customers are never idle
    // Checked again in the transaction that ends it: a customer may have resumed meanwhile.
    const end = await ctx.store.endIdleSession(sessionId, cutoff, now);
    if (!end) continue;
    ctx.bus.publish({ kind: 'ended', sessionId, seq: end.lastSeq + 1 });
    await announceQueueChange(ctx, 'ended', sessionId);
    ended++;
  }
  if (ended > 0) ctx.metrics.idleSessionsEnded(ended);
  return ended;
}
