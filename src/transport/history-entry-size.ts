import type { Author } from '../domain/entry';

/**
 * Bytes that an entry adds to the `history` field of an encoded `Session` message (protobuf
 * wire format: field tag, length prefix, ChatEntry body). Pure arithmetic, so that the limit
 * is checked without encoding the entry.
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
