/** How a stream of rows is cut into INSERTs. */
export type BatchLimits = Readonly<{
  /** Most rows in one batch. */
  rows: number;
  /** Most characters of text in one batch (messages are up to 8 KiB each), to bound memory. */
  textChars: number;
}>;

/**
 * Writes `rows` with `write`, a batch at a time, and returns how many it wrote. The rows are read
 * as they are needed, so memory holds two batches whatever the table's size: the next batch is
 * read while the previous one is being written. `onWritten` hears the running total after each.
 */
export async function copyInBatches<T>(
  rows: Iterable<T>,
  limits: BatchLimits,
  textCharsOf: (row: T) => number,
  write: (batch: T[]) => Promise<void>,
  onWritten: (total: number) => void,
): Promise<number> {
  let written = 0;
  let inFlight: Promise<void> | undefined;
  const settle = async () => {
    if (!inFlight) return;
    const pending = inFlight;
    inFlight = undefined;
    await pending;
  };
  try {
    for (const batch of batchesOf(rows, limits, textCharsOf)) {
      await settle();
      inFlight = write(batch).then(() => onWritten((written += batch.length)));
    }
    await settle();
  } catch (error) {
    // A read that failed while a write was under way: that write's outcome no longer matters,
    // but it must not become an unhandled rejection.
    inFlight?.catch(() => {});
    throw error;
  }
  return written;
}

function* batchesOf<T>(rows: Iterable<T>, limits: BatchLimits, textCharsOf: (row: T) => number): Generator<T[]> {
  let batch: T[] = [];
  let chars = 0;
  for (const row of rows) {
    batch.push(row);
    chars += textCharsOf(row);
    if (batch.length >= limits.rows || chars >= limits.textChars) {
      yield batch;
      batch = [];
      chars = 0;
    }
  }
  if (batch.length > 0) yield batch;
}
