import { UserStreams } from '../../src/transport/user-streams';

describe('UserStreams', () => {
  test('counts each user apart, refuses past the limit without counting, and frees a place when a stream ends', () => {
    const streams = new UserStreams(2);
    expect([streams.tryOpen('joe'), streams.tryOpen('joe'), streams.tryOpen('joe'), streams.tryOpen('ann')]).toEqual([true, true, false, true]);
    streams.close('joe');
    expect(streams.tryOpen('joe')).toBe(true);
    expect(streams.tryOpen('joe')).toBe(false);
    for (const user of ['joe', 'joe', 'ann']) streams.close(user);
    expect(streams.users).toBe(0);
  });

  test('0 means no limit', () => {
    const streams = new UserStreams(0);
    for (let i = 0; i < 500; i++) expect(streams.tryOpen('joe')).toBe(true);
  });
});
