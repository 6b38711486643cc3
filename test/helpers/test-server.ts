import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig, type Config } from '../../src/config/config';
import { createJsonLogger, type Logger } from '../../src/log/logger';
import { startServer, type LiveState, type RunningServer, type ServerTuning } from '../../src/server/server';
import type { SupportClient } from '../../gen/support';
import { connect } from './chat-client';

/** A fresh temporary folder, removed by `removeTempDir`. */
export function makeTempDir(prefix = 'support-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeTempDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A real server, in this process, on 127.0.0.1 port 0 with a SQLite file in a temp folder. */
export type TestServer = {
  readonly address: string;
  readonly dbFile: string;
  readonly config: Config;
  /** What the running server holds for live streams (leak checks). */
  liveState(): LiveState;
  /** JSON log lines written so far. */
  readonly logs: Record<string, unknown>[];
  /** Stops the server (as on SIGTERM) and starts a new one on the same database, after `whileDown` if given. */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
};

/** Starts a test server; `flags` are command-line flags, as a user would pass them; `tuning` shortens internal delays. */
export async function startTestServer(flags: string[] = [], dir = makeTempDir(), tuning?: ServerTuning): Promise<TestServer> {
  const dbFile = path.join(dir, 'support.db');
  const config = parseConfig(['--port', '0', '--db', dbFile, ...flags], {});
  const logs: Record<string, unknown>[] = [];
  const logger: Logger = createJsonLogger((line) => logs.push(JSON.parse(line) as Record<string, unknown>));
  let running: RunningServer | undefined = await startServer(config, logger, tuning);
  const server: TestServer = {
    get address() {
      if (!running) throw new Error('the test server is stopped');
      return `127.0.0.1:${running.port}`;
    },
    liveState() {
      if (!running) throw new Error('the test server is stopped');
      return running.liveState();
    },
    dbFile,
    config,
    logs,
    async restart(whileDown) {
      await running?.shutdown();
      running = undefined;
      await whileDown?.();
      running = await startServer(parseConfig(['--port', '0', '--db', dbFile, ...flags], {}), logger, tuning);
    },
    async stop() {
      await running?.shutdown();
      running = undefined;
      removeTempDir(dir);
    },
  };
  return server;
}

/**
 * Gives each test of the file a fresh server and a client connected to it (`bind` receives them),
 * and stops both after the test.
 */
export function useServerPerTest(bind: (server: TestServer, client: SupportClient) => void, flags: string[] = []): void {
  let server: TestServer;
  let client: SupportClient;
  beforeEach(async () => {
    server = await startTestServer(flags);
    client = connect(server.address);
    bind(server, client);
  });
  afterEach(async () => {
    client.close();
    await server.stop();
  });
}

/**
 * Gives each test of the file a fresh server (`bind` receives it) and returns `newClient`, which
 * connects a client to the server's current address (it changes on restart); the clients are
 * closed after the test, then the server is stopped. grpc-js shares one HTTP/2 connection among
 * clients of the same address; with `ownConnections` each client has a connection of its own.
 */
export function useServerWithClients(bind: (server: TestServer) => void, flags: string[] = [], { ownConnections = false } = {}): () => SupportClient {
  let server: TestServer;
  let clients: SupportClient[] = [];
  beforeEach(async () => {
    server = await startTestServer(flags);
    bind(server);
  });
  afterEach(async () => {
    for (const client of clients) client.close();
    clients = [];
    await server.stop();
  });
  return () => {
    const client = connect(server.address, { ownConnection: ownConnections });
    clients.push(client);
    return client;
  };
}

/** How many distinct connections (log `peer`: client address and port) carried the streams of `users`. */
export function connectionsOf(server: TestServer, users: readonly string[]): number {
  return new Set(server.logs.filter((line) => line.msg === 'stream started' && users.includes(line.user as string)).map((line) => line.peer)).size;
}
