import { RequestThrottle } from '../../src/transport/request-throttle';

describe('RequestThrottle', () => {
  test('a burst passes at once, then one request per 1/rate seconds; idle time refills up to the burst only', () => {
    let now = 0;
    const throttle = new RequestThrottle({ perSecond: 10, burst: 3 }, () => now);
    expect([throttle.tryTake(), throttle.tryTake(), throttle.tryTake()]).toEqual([0, 0, 0]);
    expect(throttle.tryTake()).toBe(100);
    now += 40;
    expect(throttle.tryTake()).toBe(60);
    now += 60;
    expect(throttle.tryTake()).toBe(0);
    expect(throttle.tryTake()).toBe(100);
    now += 60_000; // a minute idle gives 3 tokens, not 600
    expect([throttle.tryTake(), throttle.tryTake(), throttle.tryTake(), throttle.tryTake()]).toEqual([0, 0, 0, 100]);
  });

  test('a rate of 0 never waits', () => {
    const throttle = new RequestThrottle({ perSecond: 0, burst: 1 }, () => 0);
    for (let i = 0; i < 1000; i++) expect(throttle.tryTake()).toBe(0);
  });

  test('take() waits for a token, and returns at once when the stream ends meanwhile', async () => {
    const throttle = new RequestThrottle({ perSecond: 1, burst: 1 });
    const controller = new AbortController();
    await throttle.take(controller.signal); // the burst token
    let taken = false;
    const waiting = throttle.take(controller.signal).then(() => (taken = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(taken).toBe(false); // the next token is a second away
    controller.abort();
    await waiting;
    expect(taken).toBe(true);
  });
});
