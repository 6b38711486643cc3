import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import * as grpc from '@grpc/grpc-js';
import { connect, CustomerStream } from './helpers/chat-client';
import { checkHealth, healthClient, reflect, reflectionClient } from './helpers/grpc-services';
import { summarizeFileDescriptor } from './helpers/descriptors';
import { logRecords, spawnServer, waitForListening, type ServerProcess } from './helpers/server-process';
import { makeTempDir, removeTempDir } from './helpers/test-server';
import { waitFor } from './helpers/wait';
import { defaultMigrationsDir, loadMigrations } from '../src/storage/migrations';

const BUF = path.resolve(__dirname, '..', 'node_modules', '.bin', 'buf');
const run = promisify(execFile);

let dir: string;
let running: ServerProcess[] = [];

beforeEach(() => {
  dir = makeTempDir();
});

afterEach(async () => {
  for (const server of running) if (server.exitCode() === undefined) server.child.kill('SIGKILL');
  await Promise.all(running.map((server) => server.exited));
  running = [];
  removeTempDir(dir);
});

async function start(args: string[] = []): Promise<{ server: ServerProcess; address: string }> {
  const server = spawnServer(['--port', '0', '--db', path.join(dir, 'data', 'support.db'), ...args], { cwd: dir });
  running.push(server);
  const port = await waitForListening(server);
  return { server, address: `127.0.0.1:${port}` };
}

describe('start-up', () => {
  test('logs one JSON line "listening on HOST:PORT" with the real port, and creates the database folder', async () => {
    const { server, address } = await start();
    const line = logRecords(server).find((record) => String(record.msg).includes('listening on'));
    expect(line?.msg).toBe(`listening on ${address}`);
    expect(fs.existsSync(path.join(dir, 'data', 'support.db'))).toBe(true);
  });

  test('health is SERVING for "" and "Support"', async () => {
    const { address } = await start();
    const health = healthClient(address);
    expect(await checkHealth(health, '')).toBe('SERVING');
    expect(await checkHealth(health, 'Support')).toBe('SERVING');
    health.close();
  });

  test.each([
    [['--port', 'abc'], '--port'],
    [['--port', '70000'], '--port'],
    [['--max-message-bytes', '0'], '--max-message-bytes'],
    [['--no-such-flag', '1'], '--no-such-flag'],
    [['--host'], '--host'],
  ])('the invalid flags %j exit with 2 and one stderr line naming %s, creating no database', async (args, named) => {
    const server = spawnServer([...args, '--db', path.join(dir, 'data', 'x.db')], { cwd: dir });
    running.push(server);
    expect(await server.exited).toBe(2);
    expect(server.stderr).toHaveLength(1);
    expect(server.stderr[0]).toContain(named);
    expect(fs.existsSync(path.join(dir, 'data'))).toBe(false);
  });

  test('a port another process holds: one stderr line naming it, exit 2, no database created, no grpc-js line', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const server = spawnServer(['--port', String(port), '--db', path.join(dir, 'data', 'support.db')], { cwd: dir });
      running.push(server);
      expect(await server.exited).toBe(2);
      expect(server.stderr).toEqual([`support: port ${port} on 127.0.0.1 is in use by another process; stop it or pass another --port`]);
      expect(server.stdout).toEqual([]);
      expect(fs.existsSync(path.join(dir, 'data'))).toBe(false);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  test('an invalid SUPPORT_* variable exits with 2 naming the variable; a flag wins over its variable', async () => {
    const bad = spawnServer(['--db', path.join(dir, 'x.db')], { cwd: dir, env: { SUPPORT_PORT: 'nope' } });
    running.push(bad);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr.join('\n')).toContain('SUPPORT_PORT');

    const good = spawnServer(['--port', '0', '--db', path.join(dir, 'y.db')], { cwd: dir, env: { SUPPORT_PORT: 'nope' } });
    running.push(good);
    await waitForListening(good);
  });

  test('migrations run once: a restart on the same database applies none', async () => {
    const first = await start();
    const every = loadMigrations(defaultMigrationsDir()).map((m) => m.version).join(',');
    expect(logRecords(first.server).find((r) => r.msg === 'database ready')?.migrations_applied).toBe(every);
    first.server.child.kill('SIGTERM');
    expect(await first.server.exited).toBe(0);
    const db = new Database(path.join(dir, 'data', 'support.db'), { readonly: true });
    const before = db.prepare('SELECT version, applied_at FROM schema_migrations').all();
    db.close();

    const second = await start();
    expect(logRecords(second.server).find((r) => r.msg === 'database ready')?.migrations_applied).toBe('');
    const again = new Database(path.join(dir, 'data', 'support.db'), { readonly: true });
    expect(again.prepare('SELECT version, applied_at FROM schema_migrations').all()).toEqual(before);
    again.close();
  });

  test('refuses to start on a database newer than the code knows', async () => {
    const first = await start();
    first.server.child.kill('SIGTERM');
    await first.server.exited;
    const db = new Database(path.join(dir, 'data', 'support.db'));
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, '099_future.sql', 'later')").run();
    db.close();

    const server = spawnServer(['--port', '0', '--db', path.join(dir, 'data', 'support.db')], { cwd: dir });
    running.push(server);
    expect(await server.exited).toBe(1);
    expect(server.stdout.join('\n')).toContain('newer than this server knows');
  });
});

describe('shutdown', () => {
  test('SIGTERM: health turns NOT_SERVING, an open stream ends with UNAVAILABLE, the process exits 0 within 10 s', async () => {
    const { server, address } = await start();
    const health = healthClient(address);
    const statuses: string[] = [];
    const watch = (health.Watch as (req: unknown) => grpc.ClientReadableStream<{ status: string }>).call(health, { service: 'Support' });
    watch.on('data', (update: { status: string }) => statuses.push(update.status));
    watch.on('error', () => {});
    await waitFor(() => statuses.includes('SERVING'), 10_000, 'the health watch');

    const client = connect(address);
    const customer = new CustomerStream(client, 'joe');
    await customer.init();

    const signalled = Date.now();
    server.child.kill('SIGTERM');
    expect(await customer.endCode()).toBe(grpc.status.UNAVAILABLE);
    expect(await server.exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(10_000);
    expect(statuses).toContain('NOT_SERVING');
    client.close();
    health.close();
  });

  test('SIGINT stops the server cleanly too, and the database reopens', async () => {
    const { server } = await start();
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(0);
    expect(logRecords(server).some((r) => r.msg === 'stopped')).toBe(true);
    await start();
  });
});

describe('reflection', () => {
  test('lists Support and the admin service over v1 and v1alpha, with their real names', async () => {
    const { address } = await start();
    for (const version of ['v1', 'v1alpha'] as const) {
      const client = reflectionClient(address, version);
      const response = await reflect(client, { list_services: '*' });
      const names = (response.list_services_response.service as { name: string }[]).map((s) => s.name);
      expect(names).toEqual(expect.arrayContaining(['Support', 'support.admin.v1.SupportAdminService', 'grpc.health.v1.Health']));
      client.close();
    }
  });

  test('resolves ChatEntry to support.proto and its import google/protobuf/timestamp.proto', async () => {
    const { address } = await start();
    const client = reflectionClient(address);
    const response = await reflect(client, { file_containing_symbol: 'ChatEntry' });
    const files = (response.file_descriptor_response.file_descriptor_proto as Buffer[]).map(summarizeFileDescriptor);
    expect(files.map((f) => f.name).sort()).toEqual(['google/protobuf/timestamp.proto', 'support.proto']);
    const support = files.find((f) => f.name === 'support.proto')!;
    expect(support.messages.ChatEntry).toEqual({ date: '.google.protobuf.Timestamp', customer_msg: undefined, agent_msg: '.AgentMessage' });
    expect(support.messages.Session).toEqual({ session_id: undefined, customer_name: undefined, history: '.ChatEntry' });
    client.close();
  });

  test('resolves the admin service to support/admin/v1/admin.proto and its import', async () => {
    const { address } = await start();
    const client = reflectionClient(address);
    const response = await reflect(client, { file_containing_symbol: 'support.admin.v1.SupportAdminService' });
    const files = (response.file_descriptor_response.file_descriptor_proto as Buffer[]).map(summarizeFileDescriptor);
    expect(files.map((f) => f.name).sort()).toEqual(['google/protobuf/timestamp.proto', 'support/admin/v1/admin.proto']);
    const admin = files.find((f) => f.name === 'support/admin/v1/admin.proto')!;
    expect(admin.messages.GetSessionResponse).toEqual({ session: '.support.admin.v1.SessionSummary', history: '.support.admin.v1.Entry', agent_ids: undefined });
    client.close();
  });

  test('buf curl, a generic client that never saw our proto, lists the methods and chats through reflection', async () => {
    const { address } = await start();
    const base = ['curl', '--protocol', 'grpc', '--http2-prior-knowledge'];
    const listed = await run(BUF, [...base, '--list-methods', `http://${address}`]);
    expect(listed.stdout.split('\n')).toEqual(expect.arrayContaining(['Support/ChatCustomer', 'Support/ChatAgent', 'support.admin.v1.SupportAdminService/ListSessions', 'support.admin.v1.SupportAdminService/ExportSessions']));

    const started = await run(BUF, [...base, '-H', 'authorization: token joe', '-d', '{"init":{}}{"msg":"hello"}', `http://${address}/Support/ChatCustomer`]);
    const sessionId = JSON.parse(started.stdout).session.sessionId as string;
    const resumed = await run(BUF, [...base, '-H', 'authorization: token joe', '-d', JSON.stringify({ init: { resumeSessionId: sessionId } }), `http://${address}/Support/ChatCustomer`]);
    const session = JSON.parse(resumed.stdout).session;
    expect(session.history).toEqual([{ date: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), customerMsg: 'hello' }]);

    const health = await run(BUF, [...base, `http://${address}/grpc.health.v1.Health/Check`]);
    expect(JSON.parse(health.stdout)).toEqual({ status: 'SERVING' });
  });
});
