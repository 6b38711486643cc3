import { atMoment } from '../../src/transport/at-moment';

const MAX_TIMER_MS = 2 ** 31 - 1;

beforeEach(() => jest.useFakeTimers({ now: 0 }));
afterEach(() => jest.useRealTimers());

test('the action runs once the clock reaches the moment, not a millisecond before, and leaves no timer', () => {
  const action = jest.fn();
  atMoment(1000, new AbortController().signal, action);
  jest.advanceTimersByTime(999);
  expect(action).not.toHaveBeenCalled();
  jest.advanceTimersByTime(1);
  expect(action).toHaveBeenCalledTimes(1);
  expect(jest.getTimerCount()).toBe(0);
});

test('an abort before the moment cancels the action and clears its timer', () => {
  const action = jest.fn();
  const controller = new AbortController();
  atMoment(1000, controller.signal, action);
  expect(jest.getTimerCount()).toBe(1);
  controller.abort();
  expect(jest.getTimerCount()).toBe(0);
  jest.advanceTimersByTime(5000);
  expect(action).not.toHaveBeenCalled();
});

test('an already aborted signal schedules nothing', () => {
  const controller = new AbortController();
  controller.abort();
  atMoment(1000, controller.signal, jest.fn());
  expect(jest.getTimerCount()).toBe(0);
});

test('a moment past the longest timer (ten years) is reached in waits setTimeout takes, without firing early', () => {
  const setTimeoutSpy = jest.spyOn(global, 'setTimeout');
  const action = jest.fn();
  const moment = 10 * 365 * 86_400_000;
  atMoment(moment, new AbortController().signal, action);
  const delays = () => setTimeoutSpy.mock.calls.map((call) => call[1] ?? 0);
  expect(delays()).toEqual([MAX_TIMER_MS]);
  jest.advanceTimersByTime(moment - 1);
  expect(action).not.toHaveBeenCalled();
  jest.advanceTimersByTime(1);
  expect(action).toHaveBeenCalledTimes(1);
  expect(Math.max(...delays())).toBeLessThanOrEqual(MAX_TIMER_MS);
  // One wait per 24.8 days: not a 1 ms loop (what setTimeout makes of a delay it cannot take).
  expect(delays().length).toBeLessThanOrEqual(Math.ceil(moment / MAX_TIMER_MS) + 1);
  expect(jest.getTimerCount()).toBe(0);
});

test('a timer that fires before the wall clock reaches the moment waits for the rest', () => {
  const action = jest.fn();
  atMoment(1000, new AbortController().signal, action);
  // The wall clock stepped back while waiting: the timer fires, but the moment is not there yet.
  jest.setSystemTime(-500);
  jest.advanceTimersByTime(1000);
  expect(action).not.toHaveBeenCalled();
  jest.advanceTimersByTime(500);
  expect(action).toHaveBeenCalledTimes(1);
});
