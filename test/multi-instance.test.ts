import { status } from '@grpc/grpc-js';
import type { SupportClient } from '../gen/support';
import { AgentStream, connect, CustomerStream, describeAgentResponse, describeCustomerResponse, describeHistory } from './helpers/chat-client';
import { describeWithPostgres, POSTGRES_URL } from './helpers/postgres';
import { startDeployment, type TestDeployment } from './helpers/postgres-deployment';
import { waitFor } from './helpers/wait';
import { loadMigrations } from '../src/storage/migration-files';
import { postgresMigrationsDir } from '../src/storage/postgres/postgres-migrations';

// SPEC §8: several instances on one PostgreSQL database behave as one server, whichever instance
// each stream is connected to.

let deployment: TestDeployment | undefined;
let clients: SupportClient[] = [];

afterEach(async () => {
  clients.forEach((c) => c.close());
  clients = [];
  await deployment?.stop();
  deployment = undefined;
});

/** A client of instance `i`, on a connection of its own. */
function clientOf(i: number): SupportClient {
  const client = connect(deployment!.instances[i]!.address, { ownConnection: true });
  clients.push(client);
  return client;
}

describeWithPostgres('several instances on PostgreSQL', () => {
  test('instances started together on an empty schema do not race: one migrates it, the others find it done, and all serve', async () => {
    deployment = await startDeployment(4);
    const applied = deployment.instances.map((i) => i.logs.find((l) => l.msg === 'database ready')?.migrations_applied);
    const every = loadMigrations(postgresMigrationsDir()).map((m) => m.version).join(',');
    expect(applied.filter((a) => a === every)).toHaveLength(1);
    expect(applied.filter((a) => a === '')).toHaveLength(3);
    for (let i = 0; i < 4; i++) await new CustomerStream(clientOf(i), `customer-${i}`).init();
  });

  test("the start line names the store, schema and bus, and no log line holds the store's password", async () => {
    const url = new URL(POSTGRES_URL);
    url.password = 'a-distinctive-s3cret';
    deployment = await startDeployment(1, [], undefined, url.toString());
    const instance = deployment.instances[0]!;
    await new CustomerStream(clientOf(0), 'joe').init();
    const listening = instance.logs.find((l) => String(l.msg).startsWith('listening on'));
    expect(listening).toMatchObject({ bus: 'postgres', pg_schema: deployment.schema.schema, store: expect.stringMatching(/^postgres:\/\/.*\*\*\*@127\.0\.0\.1:5432\/test$/) });
    expect(JSON.stringify(instance.logs)).not.toContain('a-distinctive-s3cret');
  });

  test('a customer on one instance and agents on the others: every entry once, in one order, to every party; the same history from every instance', async () => {
    deployment = await startDeployment(3, ['--max-messages-per-second', '0']);
    const customer = new CustomerStream(clientOf(0), 'joe');
    const { sessionId } = await customer.init();
    const agentB = new AgentStream(clientOf(1), 'agent-b');
    const agentC = new AgentStream(clientOf(2), 'agent-c');
    await agentB.accept(sessionId);
    await agentC.accept(sessionId);
    const ROUNDS = 100;
    for (let i = 0; i < ROUNDS; i++) {
      customer.send(`c${i}`);
      agentB.send(`b${i}`);
      agentC.send(`x${i}`);
    }
    await waitFor(() => agentB.responses.length >= 1 + 2 * ROUNDS && agentC.responses.length >= 1 + 2 * ROUNDS && customer.responses.length >= 1 + 2 * ROUNDS, 20_000, 'every entry everywhere');
    const history = describeHistory(await new AgentStream(clientOf(0), 'agent-reader').accept(sessionId));
    expect(history).toHaveLength(3 * ROUNDS);
    for (const i of [1, 2]) expect(describeHistory(await new AgentStream(clientOf(i), `agent-reader-${i}`).accept(sessionId))).toEqual(history);
    // Each party sees the others' entries in the history's order, each once, and not its own.
    const others = (self: string) => history.filter((line) => !line.startsWith(self));
    expect(agentB.responses.slice(1).map(describeAgentResponse)).toEqual(others('agent-b:'));
    expect(agentC.responses.slice(1).map(describeAgentResponse)).toEqual(others('agent-c:'));
    expect(customer.responses.slice(1).map(describeCustomerResponse)).toEqual(history.filter((line) => line.startsWith('agent-')));
  });

  test('10 agents on each of two instances calling accept{} at once on 20 awaiting sessions get 20 different sessions', async () => {
    deployment = await startDeployment(2);
    for (let i = 0; i < 20; i++) await new CustomerStream(clientOf(i % 2), `customer-${i}`).init();
    const agents = Array.from({ length: 20 }, (_, i) => new AgentStream(clientOf(i % 2), `agent-${i}`));
    const sessions = await Promise.all(agents.map((agent) => agent.accept().then((s) => s.sessionId)));
    expect(new Set(sessions).size).toBe(20);
  });

  test('--max-open-sessions holds across instances', async () => {
    deployment = await startDeployment(2, ['--max-open-sessions', '2']);
    await new CustomerStream(clientOf(0), 'joe').init();
    await new CustomerStream(clientOf(1), 'joe').init();
    for (const i of [0, 1]) {
      const third = new CustomerStream(clientOf(i), 'joe');
      third.sendInit();
      expect(await third.endCode()).toBe(status.RESOURCE_EXHAUSTED);
    }
  });

  test("a takeover across instances: the old stream ends with ABORTED within 2 s, for a customer and for one agent id", async () => {
    deployment = await startDeployment(2);
    const first = new CustomerStream(clientOf(0), 'joe');
    const { sessionId } = await first.init();
    const agentFirst = new AgentStream(clientOf(0), 'agent-a');
    await agentFirst.accept(sessionId);
    const takenAt = Date.now();
    await new CustomerStream(clientOf(1), 'joe').init(sessionId);
    await new AgentStream(clientOf(1), 'agent-a').accept(sessionId);
    expect(await first.endCode(2_000)).toBe(status.ABORTED);
    expect(await agentFirst.endCode(2_000)).toBe(status.ABORTED);
    expect(Date.now() - takenAt).toBeLessThan(2_000);
  });

  test('the idle timeout ends a session once, and the agents of every instance get session_ended', async () => {
    deployment = await startDeployment(2, ['--idle-timeout-seconds', '1']);
    const customer = new CustomerStream(clientOf(0), 'joe');
    const { sessionId } = await customer.init();
    const agents = [new AgentStream(clientOf(0), 'agent-a'), new AgentStream(clientOf(1), 'agent-b')];
    for (const agent of agents) await agent.accept(sessionId);
    customer.end();
    await customer.ended();
    for (const agent of agents) expect(describeAgentResponse(await agent.next(10_000))).toBe('session ended');
    const ends = deployment.instances.flatMap((i) => i.logs).filter((l) => l.msg === 'ended idle sessions');
    expect(ends.reduce((n, l) => n + Number(l.sessions), 0)).toBe(1);
  });
});
