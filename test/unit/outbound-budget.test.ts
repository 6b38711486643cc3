import { OutboundBudget, type BudgetHolder } from '../../src/transport/outbound-budget';

/** A stream that holds `queued` bytes in its own queue and `transport` bytes in grpc-js. */
class FakeStream implements BudgetHolder {
  ended = false;
  reset = false;
  /** Stalled long ago unless a test says otherwise. */
  stalledSince: number | undefined = -10_000;
  constructor(
    private readonly budget: OutboundBudget,
    readonly name: string,
    public queued: number,
    public transport: number,
  ) {
    budget.join(this);
    budget.add(queued + transport);
  }
  get unsentBytes(): number {
    return this.queued + this.transport;
  }
  endForBudget(): void {
    this.ended = true;
    this.budget.release(this.queued);
    this.queued = 0;
  }
  resetForBudget(): void {
    this.reset = true;
    this.budget.release(this.unsentBytes);
    this.queued = this.transport = 0;
  }
}

describe('OutboundBudget', () => {
  test('past the budget, the streams holding the most are ended first, and a reader holding little is left alone', () => {
    const budget = new OutboundBudget(100);
    const reader = new FakeStream(budget, 'reader', 5, 5);
    const big = new FakeStream(budget, 'big', 50, 0);
    const middle = new FakeStream(budget, 'middle', 30, 0);
    expect(budget.bytes).toBe(90);
    const next = new FakeStream(budget, 'next', 20, 0); // 110: over
    expect([reader, big, middle, next].map((s) => s.ended)).toEqual([false, true, false, false]);
    expect(budget.bytes).toBe(60);
  });

  test('a reader being sent a large reply holds more than the stalled streams for a moment: they are ended before it', () => {
    const budget = new OutboundBudget(100, () => 0);
    const stalledSmall = new FakeStream(budget, 'stalled small', 30, 0);
    const stalledTiny = new FakeStream(budget, 'stalled tiny', 20, 0);
    const reader = new FakeStream(budget, 'reader', 0, 0);
    reader.stalledSince = 0; // its bytes start moving now
    reader.queued = 45;
    budget.add(45); // 95
    new FakeStream(budget, 'next', 10, 0).stalledSince = undefined; // 105: over
    expect([stalledSmall.ended, stalledTiny.ended, reader.ended]).toEqual([true, false, false]);
  });

  test('when ended streams still hold transport bytes, they are reset, largest first', () => {
    const budget = new OutboundBudget(100);
    const stalled = new FakeStream(budget, 'stalled', 0, 60);
    stalled.ended = true; // ended earlier; its status waits behind what grpc-js holds
    const other = new FakeStream(budget, 'other', 0, 30);
    new FakeStream(budget, 'new', 20, 0); // 110
    expect([stalled.reset, other.reset]).toEqual([true, false]);
    expect(budget.bytes).toBe(50);
  });
});
