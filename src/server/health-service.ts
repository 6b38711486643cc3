import { status as Status, type sendUnaryData, type Server, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import { service as healthServiceDefinition } from 'grpc-health-check';

type ServingStatus = 'SERVING' | 'NOT_SERVING';
type WatchCall = ServerWritableStream<{ service: string }, { status: string }>;

/**
 * grpc.health.v1.Health for "" (the server) and "Support". Written here rather than taken from
 * grpc-health-check's HealthImplementation because shutdown must end the Watch streams: grpc-js
 * `tryShutdown` waits for every open stream, and that class does not expose its watchers.
 */
export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>([
    ['', 'SERVING'],
    ['Support', 'SERVING'],
  ]);
  private readonly watches = new Set<{ service: string; call: WatchCall }>();
  private stopped = false;

  addToServer(server: Server): void {
    server.addService(healthServiceDefinition, {
      check: (call: ServerUnaryCall<{ service: string }, unknown>, callback: sendUnaryData<unknown>) => {
        const status = this.statuses.get(call.request.service);
        if (status) callback(null, { status });
        else callback({ code: Status.NOT_FOUND, details: `unknown service ${JSON.stringify(call.request.service)}` });
      },
      watch: (call: WatchCall) => {
        const watch = { service: call.request.service, call };
        this.watches.add(watch);
        call.on('cancelled', () => this.watches.delete(watch));
        call.write({ status: this.statuses.get(watch.service) ?? 'SERVICE_UNKNOWN' });
      },
      list: (_call: unknown, callback: sendUnaryData<unknown>) => {
        const statuses = Object.fromEntries([...this.statuses].map(([service, status]) => [service, { status }]));
        callback(null, { statuses });
      },
    });
  }

  /** While the database is unreachable (SPEC §8) the services are NOT_SERVING, and SERVING again after; watchers are told. */
  setServing(serving: boolean): void {
    if (this.stopped) return;
    const status: ServingStatus = serving ? 'SERVING' : 'NOT_SERVING';
    for (const service of this.statuses.keys()) this.statuses.set(service, status);
    for (const { service, call } of this.watches) if (this.statuses.has(service)) call.write({ status });
  }

  /** Shutdown: every service turns NOT_SERVING, watchers are told, then their streams end with UNAVAILABLE. */
  stopServing(): void {
    this.stopped = true;
    for (const service of this.statuses.keys()) this.statuses.set(service, 'NOT_SERVING');
    for (const { service, call } of this.watches) {
      if (this.statuses.has(service)) call.write({ status: 'NOT_SERVING' });
      call.emit('error', { code: Status.UNAVAILABLE, details: 'the server is shutting down' });
    }
    this.watches.clear();
  }
}
