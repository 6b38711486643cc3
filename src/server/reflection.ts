import fs from 'node:fs';
import type { Server } from '@grpc/grpc-js';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { ReflectionService } from '@grpc/reflection';
import { projectPath } from '../project-files';

/** The descriptor sets that `npm run generate` writes with `buf build`: ours, and the health service's. */
const DESCRIPTOR_SETS = ['support.binpb', 'health.binpb'];

/**
 * Registers gRPC server reflection (v1 and v1alpha) from buf's descriptor sets. Feeding
 * @grpc/reflection from @grpc/proto-loader serves broken descriptors for a package-less proto
 * (grpc-node #2595, #3018); buf's FileDescriptorProtos are the compiler's own, imports
 * (google/protobuf/timestamp.proto) included.
 */
export function addReflection(server: Server): void {
  const fileDescriptorProtos = DESCRIPTOR_SETS.flatMap((file) => readFileDescriptorProtos(fs.readFileSync(projectPath('gen', file))));
  // @grpc/reflection reads only `fileDescriptorProtos` of each package-definition entry.
  const packageDefinition = { all: { fileDescriptorProtos } } as unknown as ConstructorParameters<typeof ReflectionService>[0];
  const reflection = new ReflectionService(packageDefinition);
  fixPackagelessNames(reflection);
  reflection.addToServer(server);
}

/** The `FileDescriptorProto`s (field 1, repeated) of an encoded `FileDescriptorSet`. */
export function readFileDescriptorProtos(descriptorSet: Uint8Array): Buffer[] {
  const reader = new BinaryReader(descriptorSet);
  const files: Buffer[] = [];
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (fieldNo === 1 && wireType === WireType.LengthDelimited) files.push(Buffer.from(reader.bytes()));
    else reader.skip(wireType);
  }
  return files;
}

type SymbolTables = { services: Record<string, unknown>; symbols: Record<string, unknown> };

/**
 * @grpc/reflection 1.0 names the symbols of a file without a package ".Support", ".ChatEntry"
 * (grpc-node #2595), so clients that list "Support" and then ask for it get NOT_FOUND. Rename them
 * to the real full names in both implementations' tables (private fields, hence the cast).
 */
function fixPackagelessNames(reflection: ReflectionService): void {
  const { v1, v1Alpha } = reflection as unknown as { v1: SymbolTables; v1Alpha: SymbolTables };
  for (const implementation of [v1, v1Alpha]) {
    for (const table of [implementation.services, implementation.symbols]) {
      for (const name of Object.keys(table).filter((key) => key.startsWith('.'))) {
        table[name.slice(1)] = table[name];
        delete table[name];
      }
    }
  }
}
