import type { SessionEvent } from './event-bus';

/**
 * Joins a history snapshot with live events by sequence number. Subscribe first and offer every
 * event here; read the snapshot; then `start(lastSeqOfSnapshot)`. Events the snapshot already
 * holds are dropped, later ones are delivered in sequence order, each exactly once, and an event
 * that arrives ahead of a missing one waits for it.
 */
export class SequencedDelivery {
  private nextSeq: number | undefined;
  private readonly waiting = new Map<number, SessionEvent>();
  /** The session's end was offered (delivered or waiting). */
  endSeen = false;

  constructor(private readonly deliver: (event: SessionEvent) => void) {}

  offer(event: SessionEvent): void {
    if (event.kind === 'ended') this.endSeen = true;
    if (this.nextSeq !== undefined && event.seq < this.nextSeq) return; // already delivered or in the snapshot
    if (event.seq === this.nextSeq && this.waiting.size === 0) {
      this.nextSeq++; // the usual case: in order, nothing waiting
      this.deliver(event);
      return;
    }
    this.waiting.set(event.seq, event);
    this.drain();
  }

  /** The sequence number it delivers next, once started. */
  get expectedSeq(): number | undefined {
    return this.nextSeq;
  }

  /** Once started, the first sequence number that waits behind a missing one (a gap to fill), if any. */
  get waitingFrom(): number | undefined {
    if (this.nextSeq === undefined || this.waiting.size === 0) return undefined;
    return Math.min(...this.waiting.keys());
  }

  start(lastSeqOfSnapshot: number): void {
    this.nextSeq = lastSeqOfSnapshot + 1;
    for (const seq of this.waiting.keys()) if (seq < this.nextSeq) this.waiting.delete(seq);
    this.drain();
  }

  private drain(): void {
    if (this.nextSeq === undefined) return;
    for (let event = this.waiting.get(this.nextSeq); event; event = this.waiting.get(this.nextSeq)) {
      this.waiting.delete(this.nextSeq);
      this.nextSeq++;
      this.deliver(event);
    }
  }
}
