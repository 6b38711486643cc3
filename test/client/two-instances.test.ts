// The client library and the terminal apps need no change for a deployment of several instances
// on PostgreSQL (SPEC §8): behind a load balancer (here a relay that a test points at an
// instance), a chat whose instance dies reconnects to another at once and goes on, nothing lost
// or doubled; the apps chat across instances.
import { AgentChat, CustomerChat, type ChatOptions } from '../../src/client';
import { ChatRecorder } from '../helpers/chat-recorder';
import { describeWithPostgres } from '../helpers/postgres';
import { startDeployment, type TestDeployment } from '../helpers/postgres-deployment';
import { startRelayProxy, type RelayProxy } from '../helpers/relay-proxy';
import { spawnServer, waitForListening, type ServerProcess } from '../helpers/server-process';
import { AGENT_APP, CUSTOMER_APP, spawnApp, type TerminalApp } from '../helpers/terminal-app';
import { makeTempDir, removeTempDir } from '../helpers/test-server';

jest.setTimeout(60_000);

const fastRetry = { backoff: { initialMs: 20, maxMs: 250 }, giveUp: { maxElapsedMs: 30_000 } } satisfies Partial<ChatOptions>;

let deployment: TestDeployment | undefined;
let doomed: ServerProcess | undefined;
let relay: RelayProxy | undefined;
let cleanups: (() => void)[] = [];

afterEach(async () => {
  cleanups.forEach((cleanup) => cleanup());
  cleanups = [];
  doomed?.child.kill('SIGKILL');
  await doomed?.exited;
  doomed = undefined;
  await relay?.close();
  relay = undefined;
  await deployment?.stop();
  deployment = undefined;
});

describeWithPostgres('the client library and the apps against two instances', () => {
  test("the customer's instance is killed mid-chat: the library reconnects through the load balancer to the other one and resumes; every entry once, in order, on both sides", async () => {
    deployment = await startDeployment(1, ['--instance-lease-seconds', '2']);
    const survivor = deployment.instances[0]!;
    doomed = spawnServer(['--port', '0', ...deployment.storeFlags, '--instance-lease-seconds', '2']);
    relay = await startRelayProxy(`127.0.0.1:${await waitForListening(doomed)}`);

    const customer = new CustomerChat({ address: relay.address, credentials: { token: 'joe' }, ...fastRetry });
    const agent = new AgentChat({ address: survivor.address, credentials: { token: 'agent-smith' }, ...fastRetry });
    cleanups.push(() => customer.close(), () => agent.close());
    const customerSees = new ChatRecorder(customer);
    const agentSees = new ChatRecorder(agent);
    const session = await customer.start();
    await agent.accept(session.sessionId);
    await customer.send('c1');
    await agentSees.waitForEntries(1);
    await agent.send('a1');
    await customerSees.waitForEntries(1);

    relay.retarget(survivor.address); // the load balancer sees the instance go
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const sentMeanwhile = [customer.send('c2 after the crash'), agent.send('a2 after the crash')];
    await Promise.all(sentMeanwhile);
    await agentSees.waitForEntries(2);
    await customerSees.waitForEntries(2);
    await customer.send('c3');
    await agentSees.waitForEntries(3);

    expect(customerSees.entries).toEqual(['agent-smith: a1', 'agent-smith: a2 after the crash']);
    expect(agentSees.entries).toEqual(['joe: c1', 'joe: c2 after the crash', 'joe: c3']);
    expect(customerSees.count('reconnecting')).toBeGreaterThanOrEqual(1);
    expect(customerSees.count('closed')).toBe(0);
    expect(agentSees.stateKinds()).toEqual(['connecting', 'connected']); // the agent's instance never went away
  });

  test('the terminal apps: a customer on one instance and an agent on the other chat, and the hang-up reaches the agent', async () => {
    deployment = await startDeployment(2);
    const [first, second] = deployment.instances;
    const dir = makeTempDir();
    cleanups.push(() => removeTempDir(dir));
    const launch = (script: string, args: string[]): TerminalApp => {
      const app = spawnApp(script, args);
      cleanups.push(() => app.child.kill('SIGKILL'));
      return app;
    };
    const customer = launch(CUSTOMER_APP, ['--user', 'joe', '--server', first!.address, '--state-file', `${dir}/sessions.json`]);
    const sessionId = (await customer.waitForLine(/^\* session (\S+): type to chat/))[1]!;
    const agent = launch(AGENT_APP, ['--user', 'agent-smith', '--server', second!.address]);
    agent.type(`/accept ${sessionId}`);
    await agent.waitForLine(new RegExp(`^\\* accepted session ${sessionId} of customer joe$`));
    customer.type('hello from the first instance');
    await agent.waitForLine(/joe: hello from the first instance$/);
    agent.type('hello from the second');
    await customer.waitForLine(/agent-smith: hello from the second$/);
    customer.type('/hangup');
    await agent.waitForLine(/session .*ended/);
    expect(agent.entries()).toEqual(['joe: hello from the first instance']);
    expect(customer.entries()).toEqual(['agent-smith: hello from the second']);
  });
});
