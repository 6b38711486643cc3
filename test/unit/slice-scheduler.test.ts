import { SliceScheduler } from '../../src/transport/slice-scheduler';

function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('SliceScheduler', () => {
  test('runs slices in the order queued and hands back their results and errors', async () => {
    const scheduler = new SliceScheduler();
    const order: number[] = [];
    const results = await Promise.allSettled([
      scheduler.run(() => (order.push(1), 'one')),
      scheduler.run(() => {
        order.push(2);
        throw new Error('two failed');
      }),
      scheduler.run(async () => (order.push(3), 'three')),
    ]);
    expect(order).toEqual([1, 2, 3]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual(['one', 'two failed', 'three']);
  });

  test('lets I/O and timers run between turns once a turn has used its budget', async () => {
    const scheduler = new SliceScheduler(4);
    const events: string[] = [];
    const slices = Array.from({ length: 20 }, (_, i) =>
      scheduler.run(() => {
        // Set from the first slice, so that it is due (2 ms later) whatever the loop did before.
        if (i === 0) setTimeout(() => events.push('timer'), 0);
        busyFor(2);
        events.push(`slice ${i}`);
      }),
    );
    await Promise.all(slices);
    const timerAt = events.indexOf('timer');
    // The timer was due after the first slice; it ran after a couple more, not after all twenty.
    expect(timerAt).toBeGreaterThan(0);
    expect(timerAt).toBeLessThan(6);
  });
});
