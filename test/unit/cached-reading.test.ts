import { cachedReading } from '../../src/metrics/cached-reading';

describe('cachedReading', () => {
  let clock = 0;
  let reads = 0;
  let fail = false;
  const read = async () => {
    reads++;
    if (fail) throw new Error('unreachable');
    return reads;
  };
  beforeEach(() => {
    clock = 0;
    reads = 0;
    fail = false;
  });

  test('callers within the maximum age share one read, including while it is under way', async () => {
    const reading = cachedReading(read, 1000, () => clock);
    const [a, b] = await Promise.all([reading(), reading()]);
    clock = 999;
    expect([a, b, await reading()]).toEqual([1, 1, 1]);
    clock = 1000;
    expect(await reading()).toBe(2);
    expect(reads).toBe(2);
  });

  test('a failed read is not kept: the next caller reads again', async () => {
    const reading = cachedReading(read, 1000, () => clock);
    fail = true;
    await expect(reading()).rejects.toThrow('unreachable');
    fail = false;
    expect(await reading()).toBe(2);
  });
});
