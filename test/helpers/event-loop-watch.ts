/** How often the watch looks at the event loop. */
const TICK_MS = 5;

/** A watch on this process's event loop (and so on an in-process server's). */
export type EventLoopWatch = Readonly<{
  /** The longest time, in ms, that the event loop was blocked since the watch started. */
  longestStall: () => number;
  stop: () => void;
}>;

/**
 * Starts watching at once: a timer every 5 ms notes how late it runs. (perf_hooks'
 * monitorEventLoopDelay misses a stall that begins before its first tick.)
 */
export function watchEventLoop(): EventLoopWatch {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last - TICK_MS);
    last = now;
  }, TICK_MS);
  return { longestStall: () => longest, stop: () => clearInterval(timer) };
}
