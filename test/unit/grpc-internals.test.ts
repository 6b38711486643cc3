// The private fields of grpc-js and @grpc/reflection this server reads: each check passes on the
// pinned versions' real objects, and says loudly what changed when fed another shape.
import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { projectPath } from '../../src/project-files';
import { fixPackagelessNames, readFileDescriptorProtos } from '../../src/server/reflection';
import { keepRepeatedHeaders } from '../../src/server/repeated-headers';
import { http2StreamOf } from '../../src/transport/http2-stream-of';

const GRPC_JS_VERSION = (require('@grpc/grpc-js/package.json') as { version: string }).version;
const REFLECTION_VERSION = (require('@grpc/reflection/package.json') as { version: string }).version;

/** A bidi method taking and giving raw bytes, enough to get a real server call. */
const PING_SERVICE: grpc.ServiceDefinition = {
  ping: {
    path: '/Test/Ping',
    requestStream: true,
    responseStream: true,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
};

/** A bound server whose one method hands its call to `handle`, then ends it. */
async function pingServer(handle: (call: grpc.ServerDuplexStream<unknown, unknown>) => void) {
  const server = new grpc.Server();
  server.addService(PING_SERVICE, {
    ping: (call: grpc.ServerDuplexStream<unknown, unknown>) => {
      handle(call);
      call.end();
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return { server, address: `127.0.0.1:${port}` };
}

async function callPing(address: string): Promise<grpc.StatusObject> {
  const Client = grpc.makeGenericClientConstructor(PING_SERVICE, 'Test');
  const client = new Client(address, grpc.credentials.createInsecure());
  const call = (client as unknown as { ping: () => grpc.ClientDuplexStream<Buffer, Buffer> }).ping();
  call.on('data', () => {});
  call.on('error', () => {});
  const status = await new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  client.close();
  return status;
}

describe('keepRepeatedHeaders (Server.http2Servers, checked at start-up)', () => {
  test('finds the HTTP/2 servers of a real bound server', async () => {
    const { server } = await pingServer(() => {});
    expect(() => keepRepeatedHeaders(server)).not.toThrow();
    server.forceShutdown();
  });

  test.each([
    ['no http2Servers field', {}, 'Server.http2Servers is not a Map'],
    ['a plain object', { http2Servers: {} }, 'Server.http2Servers is not a Map'],
    ['an empty Map', { http2Servers: new Map() }, 'Server.http2Servers is empty after bindAsync'],
    ['a Map of something else', { http2Servers: new Map([[{ on() {} }, {}]]) }, 'the keys of Server.http2Servers are not HTTP/2 servers'],
  ])('fails loudly on %s, naming the installed version', (_shape, fake, message) => {
    expect(() => keepRepeatedHeaders(fake as unknown as grpc.Server)).toThrow(`@grpc/grpc-js ${GRPC_JS_VERSION} has changed: ${message}`);
  });
});

describe('fixPackagelessNames (the symbol tables of @grpc/reflection, checked at start-up)', () => {
  function realReflection(): ReflectionService {
    const fileDescriptorProtos = ['support.binpb', 'health.binpb'].flatMap((file) => readFileDescriptorProtos(fs.readFileSync(projectPath('gen', file))));
    return new ReflectionService({ all: { fileDescriptorProtos } } as unknown as ConstructorParameters<typeof ReflectionService>[0]);
  }

  test('renames ".Support" to "Support" in both implementations of the real service', () => {
    const reflection = realReflection();
    fixPackagelessNames(reflection);
    const { v1, v1Alpha } = reflection as unknown as Record<'v1' | 'v1Alpha', { services: object; symbols: object }>;
    for (const tables of [v1, v1Alpha]) {
      expect(Object.keys(tables.services)).toEqual(expect.arrayContaining(['Support', 'grpc.health.v1.Health']));
      expect(Object.keys(tables.symbols)).toEqual(expect.arrayContaining(['Support', 'ChatEntry']));
      expect(Object.keys(tables.symbols).filter((name) => name.startsWith('.'))).toEqual([]);
    }
  });

  const tables = () => ({ services: { '.Support': {}, 'grpc.health.v1.Health': {} }, symbols: {} });
  test.each([
    ['no implementations', {}, 'ReflectionService.v1 has no services and symbols tables'],
    ['no v1alpha', { v1: tables() }, 'ReflectionService.v1Alpha has no services and symbols tables'],
    ['a symbols Map', { v1: tables(), v1Alpha: { services: {}, symbols: new Map() } }, 'ReflectionService.v1Alpha has no services and symbols tables'],
    ['services missing', { v1: { services: {}, symbols: {} }, v1Alpha: tables() }, 'ReflectionService.v1.services lacks Support, support.admin.v1.SupportAdminService, grpc.health.v1.Health'],
  ])('fails loudly on %s', (_shape, fake, message) => {
    expect(() => fixPackagelessNames(fake as unknown as ReflectionService)).toThrow(`@grpc/reflection ${REFLECTION_VERSION} has changed: ${message}`);
  });
});

describe('http2StreamOf (the call chain, which only exists with a call)', () => {
  test('finds the HTTP/2 stream of a real call', async () => {
    let found: unknown;
    const { server, address } = await pingServer((call) => (found = http2StreamOf(call)));
    expect((await callPing(address)).code).toBe(grpc.status.OK);
    expect(typeof (found as { close?: unknown } | undefined)?.close).toBe('function');
    expect((found as { sentHeaders?: Record<string, unknown> }).sentHeaders?.[':status']).toBe(200);
    server.forceShutdown();
  });

  test('without it, reports once per process (not per call) that grpc-js changed, and gives undefined', () => {
    jest.isolateModules(() => {
      const fresh = require('../../src/transport/http2-stream-of') as typeof import('../../src/transport/http2-stream-of');
      const reports: string[] = [];
      fresh.onHttp2StreamMissing((error) => reports.push(error.message));
      const fakeCalls = [{}, { call: {} }, { call: { nextCall: { nextCall: {} } } }, { call: { stream: {} } }];
      for (const call of fakeCalls) expect(fresh.http2StreamOf(call as unknown as grpc.ServerDuplexStream<unknown, unknown>)).toBeUndefined();
      expect(reports).toEqual([expect.stringMatching(new RegExp(`^@grpc/grpc-js ${GRPC_JS_VERSION.replace(/\./g, '\\.')} has changed: no HTTP/2 stream found`))]);
    });
  });
});
