import type { ChatEntry as ProtoEntry } from '../../gen/support';

/**
 * What the app has seen of a session, by position in its history. `base` entries were in the last
 * history the app received (at join or at the last resume); after that it saw `othersSeen` live
 * entries of other parties, and it wrote messages of its own that the server does not echo.
 */
export type HistoryCursor = { base: number; othersSeen: number };

export type Reconciled = {
  /** Entries after `base` the app has not seen, in history order. */
  unseen: ProtoEntry[];
  /** How many of the messages written since `base` (a prefix of them) are in the history. */
  committed: number;
};

/**
 * Joins a resumed history to what the app has seen, so that it gets every entry once, in order.
 *
 * After `base`, the history holds the live entries already seen (the first `othersSeen` entries of
 * other parties: the server delivers them in history order), more entries of others that were lost
 * with the stream, and the messages this side wrote that the server committed before the break. The
 * server handles a stream's requests in order, so those are a prefix of `written`: the longest
 * prefix of `written` that ends the own entries of the history is taken as committed (the protocol
 * has no message ids, so texts are compared). Own entries not matched were written elsewhere (the
 * same user on another device) and are unseen too.
 */
export function reconcile(
  history: readonly ProtoEntry[],
  cursor: HistoryCursor,
  written: readonly string[],
  isOwn: (entry: ProtoEntry) => boolean,
  textOf: (entry: ProtoEntry) => string,
): Reconciled {
  const tail = history.slice(cursor.base);
  const ownPositions = tail.flatMap((entry, i) => (isOwn(entry) ? [i] : []));
  const committed = committedPrefix(ownPositions.map((i) => textOf(tail[i]!)), written);
  const matched = new Set(ownPositions.slice(ownPositions.length - committed));
  let othersLeftToSkip = cursor.othersSeen;
  const unseen = tail.filter((entry, i) => {
    if (matched.has(i)) return false;
    if (isOwn(entry)) return true;
    if (othersLeftToSkip > 0) {
      othersLeftToSkip--;
      return false;
    }
    return true;
  });
  return { unseen, committed };
}

/** The largest `c` such that the last `c` own texts are `written[0..c)`. */
function committedPrefix(ownTexts: readonly string[], written: readonly string[]): number {
  for (let c = Math.min(ownTexts.length, written.length); c > 0; c--) {
    const last = ownTexts.slice(ownTexts.length - c);
    if (last.every((text, i) => text === written[i])) return c;
  }
  return 0;
}
