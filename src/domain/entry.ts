/** Who wrote an entry: the session's customer, or an agent (by id). */
export type Author = { kind: 'customer' } | { kind: 'agent'; agentId: string };

/** One committed entry of a session's history. `seq` is 1, 2, 3, ... per session. */
export type Entry = Readonly<{ seq: number; date: Date; author: Author; text: string }>;

/**
 * A session as a stream sees it when it joins: its id, its customer, and its history up to
 * `lastSeq`. The history is read page by page (`readHistory`), so that a large one is never read,
 * nor encoded, in one piece.
 */
export type SessionSnapshot = Readonly<{
  sessionId: string;
  customerId: string;
  lastSeq: number;
  /** Up to `limit` entries with `afterSeq < seq <= lastSeq`, oldest first. */
  readHistory: (afterSeq: number, limit: number) => Promise<readonly Entry[]>;
}>;

/**
 * Bytes that `entry` adds to the `history` field of an encoded `Session` message (protobuf
 * wire format: field tag, length prefix, ChatEntry body). Pure arithmetic, so the domain can
 * enforce --max-history-bytes without a protobuf library.
 */
export function encodedHistoryEntrySize(date: Date, author: Author, text: string): number {
  const textField = field(utf8Length(text));
  const entryField =
    author.kind === 'customer'
      ? textField
      : field(optionalField(utf8Length(author.agentId)) + optionalField(utf8Length(text)));
  return field(field(timestampBodySize(date)) + entryField);
}

/** A length-delimited field that is always written (a set oneof member, a message): tag, length, bytes. */
function field(bytes: number): number {
  return 1 + varintSize(bytes) + bytes;
}

/** A proto3 string field outside a oneof: not written at all when empty. */
function optionalField(bytes: number): number {
  return bytes === 0 ? 0 : field(bytes);
}

/** A Timestamp: varint seconds and varint nanos, each left out when zero. */
function timestampBodySize(date: Date): number {
  const ms = date.getTime();
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms - seconds * 1000) * 1_000_000;
  return (seconds === 0 ? 0 : 1 + varintSize(seconds)) + (nanos === 0 ? 0 : 1 + varintSize(nanos));
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function varintSize(value: number): number {
  if (value < 0) return 10; // a negative int64 varint always takes ten bytes
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}
