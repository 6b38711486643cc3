import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const nodeModules = path.resolve(__dirname, '..', '..', 'node_modules');

type AnyClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

function loadClient(protoFile: string, includeDir: string, servicePath: string[], address: string): AnyClient {
  const definition = protoLoader.loadSync(protoFile, { includeDirs: [includeDir], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  let node: unknown = grpc.loadPackageDefinition(definition);
  for (const part of servicePath) node = (node as Record<string, unknown>)[part];
  const Client = node as grpc.ServiceClientConstructor;
  return new Client(address, grpc.credentials.createInsecure()) as unknown as AnyClient;
}

/** A grpc.health.v1.Health client, from the proto that grpc-health-check ships. */
export function healthClient(address: string): AnyClient {
  const dir = path.join(nodeModules, 'grpc-health-check', 'proto');
  return loadClient(path.join(dir, 'health', 'v1', 'health.proto'), dir, ['grpc', 'health', 'v1', 'Health'], address);
}

/** Calls Health/Check for `service` and returns the status name. */
export function checkHealth(client: AnyClient, service: string): Promise<string> {
  return new Promise((resolve, reject) =>
    (client.Check as (req: unknown, cb: (err: Error | null, res?: { status: string }) => void) => void).call(client, { service }, (err, res) =>
      err ? reject(err) : resolve(res!.status),
    ),
  );
}

/** A grpc.reflection.v1 ServerReflection client, from the proto that @grpc/reflection ships. */
export function reflectionClient(address: string, version: 'v1' | 'v1alpha' = 'v1'): AnyClient {
  const dir = path.join(nodeModules, '@grpc', 'reflection', 'build', 'proto');
  return loadClient(path.join(dir, 'grpc', 'reflection', version, 'reflection.proto'), dir, ['grpc', 'reflection', version, 'ServerReflection'], address);
}

/** Sends one reflection request and returns the response. */
export function reflect(client: AnyClient, request: Record<string, unknown>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const call = (client.ServerReflectionInfo as () => grpc.ClientDuplexStream<unknown, Record<string, unknown>>).call(client);
    call.on('data', (response: Record<string, unknown>) => {
      resolve(response);
      call.end();
    });
    call.on('error', reject);
    call.write(request);
  });
}

/** Asks Health/Check for "" every 100 ms until it says `status`; fails after `timeoutMs` with the last answer. */
export async function waitForHealth(address: string, status: string, timeoutMs: number): Promise<void> {
  const client = healthClient(address);
  let said = '';
  try {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
      said = await checkHealth(client, '').catch((err: grpc.ServiceError) => `error ${grpc.status[err.code]}`);
      if (said === status) return;
    }
  } finally {
    client.close();
  }
  throw new Error(`health of ${address} said ${said}, not ${status}, for ${timeoutMs} ms`);
}
