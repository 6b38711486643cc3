import * as grpc from '@grpc/grpc-js';
import net from 'node:net';
import pg from 'pg';
import { connectionConfig } from '../src/storage/postgres/postgres-connection';
import type { SupportClient } from '../gen/support';
import { AgentStream, connect, CustomerStream, describeAgentResponse, describeHistory } from './helpers/chat-client';
import { waitForHealth } from './helpers/grpc-services';
import { describeWithPostgres, freshSchema, POSTGRES_URL, type TestSchema } from './helpers/postgres';
import { startDeployment, type TestDeployment } from './helpers/postgres-deployment';
import { spawnServer, waitForListening, type ServerProcess } from './helpers/server-process';
import { privatePostgresUnavailable, startPrivatePostgres, type PrivatePostgres } from './helpers/private-postgres';
import { startCuttableProxy, type CuttableProxy } from './helpers/tcp-proxy';
import { waitFor } from './helpers/wait';

// SPEC §8: an instance that dies, and a database that goes away for a while.

const LEASE_SECONDS = 2;
let deployment: TestDeployment | undefined;
let processes: ServerProcess[] = [];
let clients: SupportClient[] = [];
let proxy: CuttableProxy | undefined;
let schema: TestSchema | undefined;
let privatePostgres: PrivatePostgres | undefined;

afterEach(async () => {
  clients.forEach((c) => c.close());
  clients = [];
  for (const p of processes) if (p.exitCode() === undefined) p.child.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
  processes = [];
  await deployment?.stop();
  deployment = undefined;
  await proxy?.close();
  proxy = undefined;
  await schema?.drop();
  schema = undefined;
  privatePostgres?.remove();
  privatePostgres = undefined;
});

/** A private PostgreSQL on a free port (retried if the port is taken meanwhile). */
async function privatePostgresOnFreePort(): Promise<PrivatePostgres> {
  for (let attempt = 1; ; attempt++) {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    try {
      return startPrivatePostgres(port);
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

/** `count` instances (processes) on `url`, their addresses. */
async function instancesOn(url: string, schemaName: string, count = 2): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const p = spawnServer(['--port', '0', '--store', url, '--pg-schema', schemaName, '--max-messages-per-second', '0']);
      processes.push(p);
      return `127.0.0.1:${await waitForListening(p)}`;
    }),
  );
}

function client(address: string): SupportClient {
  const c = connect(address, { ownConnection: true });
  clients.push(c);
  return c;
}

describeWithPostgres('faults of a deployment on PostgreSQL', () => {
  test("kill -9 of an instance mid-flood: its customer resumes on another at once and finds every entry anyone received, no duplicate; its agent's session rejoins the queue after the lease", async () => {
    deployment = await startDeployment(1, ['--max-messages-per-second', '0', '--instance-lease-seconds', String(LEASE_SECONDS)]);
    const survivor = deployment.instances[0]!;
    const doomed = spawnServer(['--port', '0', ...deployment.storeFlags, '--max-messages-per-second', '0', '--instance-lease-seconds', String(LEASE_SECONDS)]);
    processes.push(doomed);
    const doomedAddress = `127.0.0.1:${await waitForListening(doomed)}`;

    // Session X: its customer on the doomed instance, its agent on the survivor. Session Y: the other way round.
    const customerX = new CustomerStream(client(doomedAddress), 'joe');
    const x = await customerX.init();
    const agentX = new AgentStream(client(survivor.address), 'agent-x');
    await agentX.accept(x.sessionId);
    const customerY = new CustomerStream(client(survivor.address), 'ann');
    const y = await customerY.init();
    const agentY = new AgentStream(client(doomedAddress), 'agent-y');
    await agentY.accept(y.sessionId);

    for (let i = 0; i < 2000; i++) customerX.send(`flood ${i}`);
    await waitFor(() => agentX.responses.length > 200, 20_000, 'the flood to be under way');
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const diedAt = Date.now();

    // The customer resumes on the survivor at once: its old stream cannot lock it out.
    const resumed = new CustomerStream(client(survivor.address), 'joe');
    const history = describeHistory(await resumed.init(x.sessionId));
    expect(Date.now() - diedAt).toBeLessThan(1_000);
    const received = agentX.responses.slice(1).map(describeAgentResponse);
    expect(new Set(history).size).toBe(history.length); // each text once
    expect(new Set(received).size).toBe(received.length);
    expect(history.slice(0, received.length)).toEqual(received); // everything anyone received is there, in order
    resumed.send('after the crash');
    await waitFor(() => agentX.responses.some((r) => describeAgentResponse(r) === 'customer: after the crash'), 5_000, 'the chat to go on');

    // Y's only agent died with the instance: once the lease has lapsed, Y is back in the queue.
    let taken: string | undefined;
    for (const deadline = Date.now() + (LEASE_SECONDS + 5) * 1000; taken === undefined && Date.now() < deadline; ) {
      const agent = new AgentStream(client(survivor.address), 'agent-z');
      agent.sendAccept();
      const reply = await agent.next().catch(() => undefined);
      if (reply?.resp?.$case === 'acceptedSession') taken = reply.resp.value.sessionId;
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(taken).toBe(y.sessionId);
    expect(Date.now() - diedAt).toBeGreaterThanOrEqual(LEASE_SECONDS * 1000 - 500);
  }, 60_000);

  test('the database goes away under load: requests get UNAVAILABLE, health says NOT_SERVING, then both instances recover by themselves and nothing acknowledged is lost', async () => {
    schema = await freshSchema();
    const target = new URL(POSTGRES_URL);
    proxy = await startCuttableProxy(target.hostname, Number(target.port || 5432));
    target.host = `127.0.0.1:${proxy.port}`;
    const instances = await instancesOn(target.toString(), schema.schema);
    const customer = new CustomerStream(client(instances[0]!), 'joe');
    const { sessionId } = await customer.init();
    const agent = new AgentStream(client(instances[1]!), 'agent-a');
    await agent.accept(sessionId);
    for (let i = 0; i < 50; i++) customer.send(`before ${i}`);
    await waitFor(() => agent.responses.length === 51, 10_000, 'the messages before the outage');

    // A write in flight when the connections are cut: the session's row is held by another
    // connection, so the instance's transaction is waiting on it, mid-way, at the cut.
    const holder = new pg.Client(connectionConfig({ url: POSTGRES_URL, schema: schema.schema }));
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE', [sessionId]);
    customer.send('at the cut');
    for (let waiting = 0; waiting === 0; await new Promise((resolve) => setTimeout(resolve, 20))) {
      const { rows } = await holder.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()");
      waiting = Number(rows[0]!.n);
    }
    await proxy.cut();
    await holder.query('ROLLBACK');
    await holder.end();
    expect(await customer.endCode(10_000)).toBe(grpc.status.UNAVAILABLE);
    const attempts = Array.from({ length: 10 }, (_, i) => {
      const stream = new CustomerStream(client(instances[i % 2]!), `customer-${i}`);
      stream.sendInit();
      stream.send('while the database is away');
      return stream.endCode(10_000);
    });
    expect(new Set(await Promise.all(attempts))).toEqual(new Set([grpc.status.UNAVAILABLE]));
    for (const address of instances) await waitForHealth(address, 'NOT_SERVING', 8_000);

    await proxy.restore();
    for (const address of instances) await waitForHealth(address, 'SERVING', 15_000);
    // No restart: the same processes serve again; what was acknowledged before is all there.
    expect(processes.every((p) => p.exitCode() === undefined)).toBe(true);
    const again = new CustomerStream(client(instances[1]!), 'joe');
    const history = describeHistory(await again.init(sessionId));
    // What was acknowledged (delivered to the agent) is all there, and what was cut off is either committed, in order, or not at all.
    const acknowledged = agent.responses.slice(1).map(describeAgentResponse);
    expect(history.slice(0, acknowledged.length)).toEqual(acknowledged);
    expect(history.slice(0, 50)).toEqual(Array.from({ length: 50 }, (_, i) => `customer: before ${i}`));
    expect(history.length === 50 || (history.length === 51 && history[50] === 'customer: at the cut')).toBe(true);
    const agentAgain = new AgentStream(client(instances[0]!), 'agent-b');
    await agentAgain.accept(sessionId);
    again.send('after the outage');
    expect(describeAgentResponse(await agentAgain.next(10_000))).toBe('customer: after the outage');
  }, 60_000);

  const crashTest = privatePostgresUnavailable() ? test.skip : test;
  crashTest('PostgreSQL itself crashes (immediate stop) and starts again under load: UNAVAILABLE, NOT_SERVING, then SERVING, and every acknowledged entry is still there', async () => {
    privatePostgres = await privatePostgresOnFreePort();
    const instances = await instancesOn(privatePostgres.url, 'support');
    const customer = new CustomerStream(client(instances[0]!), 'joe');
    const { sessionId } = await customer.init();
    const agent = new AgentStream(client(instances[1]!), 'agent-a');
    await agent.accept(sessionId);
    for (let i = 0; i < 3000; i++) customer.send(`flood ${i}`);
    await waitFor(() => agent.responses.length > 100, 20_000, 'the flood to be under way');
    privatePostgres.stop('immediate');
    expect(await customer.endCode(10_000)).toBe(grpc.status.UNAVAILABLE);
    for (const address of instances) await waitForHealth(address, 'NOT_SERVING', 8_000);
    const acknowledged = agent.responses.slice(1).map(describeAgentResponse);

    privatePostgres.start();
    for (const address of instances) await waitForHealth(address, 'SERVING', 15_000);
    expect(processes.every((p) => p.exitCode() === undefined)).toBe(true);
    const again = new CustomerStream(client(instances[1]!), 'joe');
    const history = describeHistory(await again.init(sessionId));
    expect(history.slice(0, acknowledged.length)).toEqual(acknowledged);
    expect(new Set(history).size).toBe(history.length);
    const agentAgain = new AgentStream(client(instances[0]!), 'agent-b');
    await agentAgain.accept(sessionId);
    again.send('after the crash');
    expect(describeAgentResponse(await agentAgain.next(10_000))).toBe('customer: after the crash');
  }, 90_000);

  test('a takeover sent while the old stream\'s instance was cut from the database still ends that stream once it is back', async () => {
    schema = await freshSchema();
    const target = new URL(POSTGRES_URL);
    proxy = await startCuttableProxy(target.hostname, Number(target.port || 5432));
    const viaProxy = new URL(POSTGRES_URL);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const [cutOff] = await instancesOn(viaProxy.toString(), schema.schema, 1);
    const [steady] = await instancesOn(POSTGRES_URL, schema.schema, 1);
    const first = new CustomerStream(client(cutOff!), 'joe');
    const { sessionId } = await first.init();
    await proxy.cut(); // its channel misses the takeover request
    await waitForHealth(cutOff!, 'NOT_SERVING', 8_000);
    await new CustomerStream(client(steady!), 'joe').init(sessionId);
    expect(first.status).toBeUndefined();
    await proxy.restore();
    expect(await first.endCode(10_000)).toBe(grpc.status.ABORTED);
  }, 60_000);
});
