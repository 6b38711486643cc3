/**
 * `read`, at most once per `maxAgeMs`: callers within that time share the last result, and
 * callers while a read is under way share that read. So a burst of scrapes (several Prometheus
 * servers, a dashboard refreshed by hand) costs the database one query. A failed read is not kept.
 */
export function cachedReading<T>(read: () => Promise<T>, maxAgeMs: number, now: () => number = () => performance.now()): () => Promise<T> {
  let last: { value: Promise<T>; at: number } | undefined;
  return () => {
    if (last === undefined || now() - last.at >= maxAgeMs) {
      const value = read();
      const entry = { value, at: now() };
      last = entry;
      value.catch(() => {
        if (last === entry) last = undefined;
      });
    }
    return last.value;
  };
}
