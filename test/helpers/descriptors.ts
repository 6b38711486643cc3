import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

/** The length-delimited fields of a protobuf message, by field number (enough to walk descriptors). */
function fields(bytes: Uint8Array): Map<number, Uint8Array[]> {
  const reader = new BinaryReader(bytes);
  const out = new Map<number, Uint8Array[]>();
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag();
    if (wireType === WireType.LengthDelimited) out.set(no, [...(out.get(no) ?? []), reader.bytes()]);
    else reader.skip(wireType);
  }
  return out;
}

const text = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

/** A FileDescriptorProto reduced to names: file name, and per message its fields' names and type names. */
export type FileSummary = { name: string; messages: Record<string, Record<string, string | undefined>> };

export function summarizeFileDescriptor(bytes: Uint8Array): FileSummary {
  const file = fields(bytes);
  const messages: FileSummary['messages'] = {};
  for (const message of file.get(4) ?? []) {
    const m = fields(message);
    const fieldTypes: Record<string, string | undefined> = {};
    for (const field of m.get(2) ?? []) {
      const f = fields(field);
      fieldTypes[text(f.get(1)?.[0])!] = text(f.get(6)?.[0]);
    }
    messages[text(m.get(1)?.[0])!] = fieldTypes;
  }
  return { name: text(file.get(1)?.[0])!, messages };
}
