import { FoldSchedule } from '../../src/storage/sqlite/fold-schedule';
import { waitFor } from '../helpers/wait';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('FoldSchedule', () => {
  let schedule: FoldSchedule | undefined;
  afterEach(() => schedule?.stop());

  test('folds once the count is reached, in a later turn, and again only after as many more', async () => {
    let folds = 0;
    schedule = new FoldSchedule(() => void folds++, () => {}, { everyEntries: 3, everyMs: 2 ** 30 });
    schedule.appended();
    schedule.appended();
    await nextTurn();
    expect(folds).toBe(0);
    schedule.appended();
    expect(folds).toBe(0); // not inside the batch that reached the count
    await nextTurn();
    expect(folds).toBe(1);
    schedule.appended();
    await nextTurn();
    expect(folds).toBe(1);
  });

  test('folds a short tail once the interval has passed since its first entry', async () => {
    let folds = 0;
    schedule = new FoldSchedule(() => void folds++, () => {}, { everyEntries: 1000, everyMs: 20 });
    schedule.appended();
    await waitFor(() => folds === 1, 5000, 'the timed fold');
  });

  test('after a failed fold (a locked database), the next try waits for the interval, not for every new entry', async () => {
    let attempts = 0;
    const failures: unknown[] = [];
    let locked = true;
    schedule = new FoldSchedule(
      () => {
        attempts++;
        if (locked) throw new Error('SQLITE_BUSY');
      },
      (error) => failures.push(error),
      { everyEntries: 2, everyMs: 1000 },
    );
    schedule.appended();
    schedule.appended();
    await nextTurn();
    expect(attempts).toBe(1);
    for (let i = 0; i < 10; i++) {
      schedule.appended();
      await nextTurn();
    }
    expect(attempts).toBe(1);
    expect(failures).toHaveLength(1);
    locked = false;
    await waitFor(() => attempts === 2, 5000, 'the retry after the interval');
    expect(failures).toHaveLength(1);
  });
});
