import { expect } from '@jest/globals';
import { JoinRateLimiter } from '../../src/transport/join-rate-limiter';

describe('JoinRateLimiter', () => {
  test('a user gets its joins per minute at once, then one more every 60/N seconds; others are not affected', () => {
    let now = 0;
    const limiter = new JoinRateLimiter(3, () => now);
    for (let i = 0; i < 3; i++) limiter.take('joe');
    expect(() => limiter.take('joe')).toThrow(expect.objectContaining({ kind: 'resource-exhausted', message: expect.stringMatching(/try again in 20 s/) }));
    limiter.take('ann');
    now += 19_000;
    expect(() => limiter.take('joe')).toThrow(/more than 3 joins/);
    now += 1_000;
    limiter.take('joe');
    expect(() => limiter.take('joe')).toThrow(/more than 3 joins/);
  });

  test('0 turns it off', () => {
    const limiter = new JoinRateLimiter(0, () => 0);
    for (let i = 0; i < 10_000; i++) limiter.take('joe');
    expect(limiter.trackedUsers).toBe(0);
  });

  test('users whose joins have refilled are forgotten, so memory follows the active users only', () => {
    let now = 0;
    const limiter = new JoinRateLimiter(120, () => now);
    for (let i = 0; i < 1000; i++) limiter.take(`user-${i}`);
    expect(limiter.trackedUsers).toBe(1000);
    now += 61_000;
    limiter.take('someone-new');
    expect(limiter.trackedUsers).toBe(1);
  });
});
