/** Encoded `history` fields of consecutive entries; the last of them has sequence number `lastSeq`. */
type Chunk = Readonly<{ lastSeq: number; bytes: Uint8Array }>;

/** Chunks smaller than this are merged with the next one, so that a session joined often stays a few buffers. */
const MERGE_BELOW_BYTES = 64 * 1024;

/**
 * The encoded histories of recently joined sessions, so that joining a session again only reads
 * and encodes the entries added since. A history only grows (entries never change once committed),
 * so the bytes of entries 1..n stay valid; each session's bytes are kept as a few chunks covering
 * entries 1..n. Least recently used sessions are forgotten once `maxBytes` is passed.
 */
export class EncodedHistoryCache {
  private readonly sessions = new Map<string, Chunk[]>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** The cached chunks of the session's first entries, up to `upToSeq` at most, and the seq they end at. */
  prefix(sessionId: string, upToSeq: number): { chunks: Uint8Array[]; lastSeq: number } {
    const chunks = this.sessions.get(sessionId);
    if (!chunks) return { chunks: [], lastSeq: 0 };
    this.sessions.delete(sessionId); // re-inserted last: the most recently used
    this.sessions.set(sessionId, chunks);
    const usable = chunks.filter((chunk) => chunk.lastSeq <= upToSeq);
    return { chunks: usable.map((chunk) => chunk.bytes), lastSeq: usable.at(-1)?.lastSeq ?? 0 };
  }

  /**
   * Adds the encoded entries `afterSeq + 1 .. lastSeq`, if the session's cached bytes end at
   * `afterSeq` (another join may have added them meanwhile: then nothing changes).
   */
  append(sessionId: string, afterSeq: number, lastSeq: number, bytes: Uint8Array): void {
    if (bytes.length > this.maxBytes) return;
    const chunks = this.sessions.get(sessionId) ?? [];
    if ((chunks.at(-1)?.lastSeq ?? 0) !== afterSeq) return;
    const last = chunks.at(-1);
    if (last && last.bytes.length < MERGE_BELOW_BYTES) {
      chunks[chunks.length - 1] = { lastSeq, bytes: Buffer.concat([last.bytes, bytes]) };
    } else {
      chunks.push({ lastSeq, bytes });
    }
    this.bytes += bytes.length;
    this.sessions.delete(sessionId);
    this.sessions.set(sessionId, chunks);
    this.evict();
  }

  /** Drops what is cached of a session (its entries were deleted). */
  forget(sessionId: string): void {
    const chunks = this.sessions.get(sessionId);
    if (!chunks) return;
    this.sessions.delete(sessionId);
    this.bytes -= chunks.reduce((n, chunk) => n + chunk.bytes.length, 0);
  }

  /** Bytes held now. */
  get size(): number {
    return this.bytes;
  }

  private evict(): void {
    for (const sessionId of this.sessions.keys()) {
      if (this.bytes <= this.maxBytes) return;
      this.forget(sessionId);
    }
  }
}
