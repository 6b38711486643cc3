import { BinaryReader } from '@bufbuild/protobuf/wire';

/** Marks a request whose bytes could not be decoded; the handler turns it into INVALID_ARGUMENT. */
const decodeFailure = Symbol('decodeFailure');

/**
 * A reader that refuses invalid UTF-8 in string fields instead of replacing it with U+FFFD, as
 * proto3 requires. ts-proto's generated `decode` passes the reader down to nested messages.
 */
class StrictUtf8Reader extends BinaryReader {
  override string(): string {
    return super.string(true);
  }
}

/**
 * Wraps a generated `decode` for use as a grpc-js request deserializer that never throws: grpc-js
 * would turn a throw into INTERNAL, while undecodable bytes are the client's INVALID_ARGUMENT. A
 * failure comes back as a request with no field set, marked with the reason (see `decodeFailureOf`),
 * so handlers keep the generated `SupportServer` types.
 */
export function strictDeserializer<T extends object>(decode: (reader: BinaryReader) => T): (bytes: Buffer) => T {
  return (bytes) => {
    try {
      return decode(new StrictUtf8Reader(bytes));
    } catch (err) {
      return { [decodeFailure]: err instanceof Error ? err.message : String(err) } as unknown as T;
    }
  };
}

/** Why the request's bytes were rejected, or undefined if it was decoded. */
export function decodeFailureOf(request: object): string | undefined {
  return (request as { [decodeFailure]?: string })[decodeFailure];
}
