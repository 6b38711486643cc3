/** Encoded `history` fields of consecutive entries; the last of them has sequence number `lastSeq`. */
type Chunk = Readonly<{ lastSeq: number; bytes: Uint8Array }>;

/** What is kept of one session: its history's first entries, and the last reply built from all of them. */
type CachedSession = { chunks: Chunk[]; reply?: Readonly<{ lastSeq: number; bytes: Uint8Array }> | undefined };

/** Chunks smaller than this are merged with the next one, so that a session joined often stays a few buffers. */
const MERGE_BELOW_BYTES = 64 * 1024;

/**
 * The encoded histories of recently joined sessions, so that joining a session again only reads
 * and encodes the entries added since. A history only grows (entries never change once committed),
 * so the bytes of entries 1..n stay valid; each session's bytes are kept as a few chunks covering
 * entries 1..n, and, once a whole reply was built, as that reply (the next join of an unchanged
 * session is sent the very same bytes, with nothing built or copied). Least recently used sessions
 * are forgotten once `maxBytes` is passed.
 */
export class EncodedHistoryCache {
  private readonly sessions = new Map<string, CachedSession>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** The reply built for the session at exactly `lastSeq`, if it is kept. */
  reply(sessionId: string, lastSeq: number): Uint8Array | undefined {
    const session = this.touch(sessionId);
    return session?.reply?.lastSeq === lastSeq ? session.reply.bytes : undefined;
  }

  /** The cached chunks of the session's first entries, up to `upToSeq` at most, and the seq they end at. */
  prefix(sessionId: string, upToSeq: number): { chunks: Uint8Array[]; lastSeq: number } {
    const usable = (this.touch(sessionId)?.chunks ?? []).filter((chunk) => chunk.lastSeq <= upToSeq);
    return { chunks: usable.map((chunk) => chunk.bytes), lastSeq: usable.at(-1)?.lastSeq ?? 0 };
  }

  /**
   * Adds the encoded entries `afterSeq + 1 .. lastSeq`, if the session's cached bytes end at
   * `afterSeq` (another join may have added them meanwhile: then nothing changes).
   */
  append(sessionId: string, afterSeq: number, lastSeq: number, bytes: Uint8Array): void {
    if (bytes.length > this.maxBytes) return;
    const session = this.sessions.get(sessionId) ?? { chunks: [] };
    session.reply = undefined; // the history grew: that reply is an old one now
    const { chunks } = session;
    const last = chunks.at(-1);
    if ((last?.lastSeq ?? 0) !== afterSeq) return;
    if (last && last.bytes.length < MERGE_BELOW_BYTES) {
      chunks[chunks.length - 1] = { lastSeq, bytes: Buffer.concat([last.bytes, bytes]) };
    } else {
      chunks.push({ lastSeq, bytes });
    }
    this.bytes += bytes.length;
    this.sessions.delete(sessionId);
    this.sessions.set(sessionId, session);
    this.evict();
  }

  /**
   * Keeps `reply`, built from every cached entry up to `lastSeq`, whose history fields start at
   * `historyOffset`: it replaces the chunks (they become a view into it), so nothing is held twice
   * (its few header bytes aside, the view is what is counted).
   */
  keepReply(sessionId: string, lastSeq: number, reply: Uint8Array, historyOffset: number): void {
    const session = this.sessions.get(sessionId);
    if (session?.chunks.at(-1)?.lastSeq !== lastSeq) return;
    const history = reply.subarray(historyOffset);
    this.bytes += history.length - chunkBytes(session);
    session.chunks = [{ lastSeq, bytes: history }];
    session.reply = { lastSeq, bytes: reply };
    this.evict();
  }

  /** Drops what is cached of a session (its entries were deleted). */
  forget(sessionId: string): void {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    this.sessions.delete(sessionId);
    this.bytes -= chunkBytes(session);
  }

  /** Bytes held now. */
  get size(): number {
    return this.bytes;
  }

  /** The session's entry, now the most recently used. */
  private touch(sessionId: string): CachedSession | undefined {
    const session = this.sessions.get(sessionId);
    if (session) {
      this.sessions.delete(sessionId);
      this.sessions.set(sessionId, session);
    }
    return session;
  }

  private evict(): void {
    for (const sessionId of this.sessions.keys()) {
      if (this.bytes <= this.maxBytes) return;
      this.forget(sessionId);
    }
  }
}

function chunkBytes(session: CachedSession): number {
  return session.chunks.reduce((n, chunk) => n + chunk.bytes.length, 0);
}
