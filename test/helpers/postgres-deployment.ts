import { parseConfig } from '../../src/config/config';
import { createJsonLogger } from '../../src/log/logger';
import { startServer, type LiveState, type RunningServer, type ServerTuning } from '../../src/server/server';
import { freshSchema, type TestSchema } from './postgres';

/** One instance of a deployment on PostgreSQL, in this process (like TestServer, without a database file). */
export type TestInstance = {
  readonly address: string;
  readonly logs: Record<string, unknown>[];
  liveState(): LiveState;
  stop(): Promise<void>;
};

/** Several instances on one fresh schema; `stop` stops them all and drops the schema. */
export type TestDeployment = Readonly<{
  schema: TestSchema;
  instances: TestInstance[];
  /** Starts one more instance on the same schema. */
  addInstance(flags?: string[]): Promise<TestInstance>;
  /** The flags an instance of this deployment takes (for instances started as processes). */
  storeFlags: string[];
  stop(): Promise<void>;
}>;

/**
 * Starts `count` instances on a fresh schema, each with `flags` (command-line flags, as a user
 * would pass them); `url` is the store's URL (by default the test PostgreSQL's).
 */
export async function startDeployment(count: number, flags: string[] = [], tuning?: ServerTuning, url?: string): Promise<TestDeployment> {
  const schema = await freshSchema();
  const storeFlags = ['--store', url ?? schema.url, '--pg-schema', schema.schema];
  const instances: TestInstance[] = [];
  const addInstance = async (extra: string[] = []) => {
    const instance = await startInstance([...storeFlags, ...flags, ...extra], tuning);
    instances.push(instance);
    return instance;
  };
  try {
    // Started together, as a deployment's instances are: they must not race over the schema.
    await Promise.all(Array.from({ length: count }, () => addInstance()));
  } catch (error) {
    await Promise.all(instances.map((i) => i.stop()));
    await schema.drop();
    throw error;
  }
  return {
    schema,
    instances,
    addInstance,
    storeFlags,
    stop: async () => {
      await Promise.all(instances.map((i) => i.stop()));
      await schema.drop();
    },
  };
}

async function startInstance(flags: string[], tuning?: ServerTuning): Promise<TestInstance> {
  const logs: Record<string, unknown>[] = [];
  const logger = createJsonLogger((line) => logs.push(JSON.parse(line) as Record<string, unknown>));
  let running: RunningServer | undefined = await startServer(parseConfig(['--port', '0', ...flags], {}), logger, tuning);
  return {
    get address() {
      if (!running) throw new Error('the instance is stopped');
      return `127.0.0.1:${running.port}`;
    },
    logs,
    liveState: () => {
      if (!running) throw new Error('the instance is stopped');
      return running.liveState();
    },
    stop: async () => {
      await running?.shutdown();
      running = undefined;
    },
  };
}
