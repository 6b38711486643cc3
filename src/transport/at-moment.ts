/** The longest delay setTimeout takes (2^31-1 ms, about 24.8 days); a longer one fires at once, with a warning. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `action` once the wall clock reaches `moment` (ms since the epoch), unless `signal` fires
 * first; either way no timer is left behind. A moment further away than one timer can wait is
 * reached in several waits, and a timer that fires early (timers run on another clock than
 * `Date.now`) waits again for the rest.
 */
export function atMoment(moment: number, signal: AbortSignal, action: () => void): void {
  let timer: NodeJS.Timeout | undefined;
  const cancel = () => clearTimeout(timer);
  const schedule = () => {
    timer = setTimeout(check, Math.max(0, Math.min(moment - Date.now(), MAX_TIMER_MS)));
  };
  const check = () => {
    if (Date.now() < moment) return schedule();
    signal.removeEventListener('abort', cancel);
    action();
  };
  if (signal.aborted) return;
  signal.addEventListener('abort', cancel, { once: true });
  schedule();
}
