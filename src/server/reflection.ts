import fs from 'node:fs';
import type { Server } from '@grpc/grpc-js';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { ReflectionService } from '@grpc/reflection';
import { projectPath } from '../project-files';
import { internalsChanged } from '../transport/grpc-internals';

/**
 * The descriptor sets that `npm run generate` writes with `buf build`: ours (every file of proto/,
 * Support's and the admin service's), and the health service's.
 */
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

/** The services reflection must list by their real names once the tables are fixed. */
const EXPECTED_SERVICES = ['Support', 'support.admin.v1.SupportAdminService', 'grpc.health.v1.Health'];

/**
 * @grpc/reflection 1.0 names the symbols of a file without a package ".Support", ".ChatEntry"
 * (grpc-node #2595), so clients that list "Support" and then ask for it get NOT_FOUND. Rename them
 * to the real full names in both implementations' tables. The tables are private fields: if they
 * are not there, or the services are not found under their real names afterwards, start-up fails.
 */
export function fixPackagelessNames(reflection: ReflectionService): void {
  for (const [name, tables] of symbolTablesOf(reflection)) {
    for (const table of [tables.services, tables.symbols]) {
      for (const key of Object.keys(table).filter((key) => key.startsWith('.'))) {
        table[key.slice(1)] = table[key];
        delete table[key];
      }
    }
    const missing = EXPECTED_SERVICES.filter((service) => !(service in tables.services));
    if (missing.length > 0) throw internalsChanged('@grpc/reflection', `ReflectionService.${name}.services lacks ${missing.join(', ')}`);
  }
}

/** The private symbol tables of both implementations (v1 and v1alpha), checked for their shape. */
function symbolTablesOf(reflection: ReflectionService): [string, SymbolTables][] {
  const implementations = reflection as unknown as Record<string, Partial<Record<keyof SymbolTables, unknown>> | undefined>;
  return (['v1', 'v1Alpha'] as const).map((name) => {
    const tables = implementations[name];
    if (!isTable(tables?.services) || !isTable(tables?.symbols)) {
      throw internalsChanged('@grpc/reflection', `ReflectionService.${name} has no services and symbols tables`);
    }
    return [name, tables as SymbolTables];
  });
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Map);
}
