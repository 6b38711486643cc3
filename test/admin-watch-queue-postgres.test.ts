import { expect } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { connectionConfig } from '../src/storage/postgres/postgres-connection';
import { connectAdmin } from './helpers/admin-client';
import { AgentStream, connect, CustomerStream } from './helpers/chat-client';
import { describeWithPostgres } from './helpers/postgres';
import { startDeployment, type TestDeployment } from './helpers/postgres-deployment';
import { watchQueue, type QueueWatch } from './helpers/queue-watch';
import { waitFor } from './helpers/wait';

// WatchQueue across the instances of a deployment on PostgreSQL (SPEC §8).

describeWithPostgres('WatchQueue over two PostgreSQL instances', () => {
  let deployment: TestDeployment;
  const clients: { close: () => void }[] = [];
  afterEach(async () => {
    clients.forEach((c) => c.close());
    await deployment.stop();
  });

  test('a watch on either instance sees the changes made on both, in order', async () => {
    deployment = await startDeployment(2);
    const [a, b] = deployment.instances.map((i) => i.address);
    const admins = [connectAdmin(a!), connectAdmin(b!)];
    const chats = [connect(a!, { ownConnection: true }), connect(b!, { ownConnection: true })];
    clients.push(...admins, ...chats);
    const watches = [await watchQueue(admins[0]!), await watchQueue(admins[1]!)];
    const joe = new CustomerStream(chats[0]!, 'joe'); // on instance A
    const { sessionId } = await joe.init();
    // Each step is seen on both instances before the next, as an operator would see it.
    const seenEverywhere = (count: number) => Promise.all(watches.map((w) => w.waitForEvents(count)));
    await seenEverywhere(1);
    const ann = new AgentStream(chats[1]!, 'agent-ann'); // on instance B
    await ann.accept();
    await seenEverywhere(2);
    ann.leave();
    await seenEverywhere(3);
    await ann.accept(sessionId);
    await seenEverywhere(4);
    joe.hangUp(); // on A
    await seenEverywhere(5);
    const expected = [`waiting ${sessionId} joe`, `taken ${sessionId} joe`, `waiting ${sessionId} joe`, `taken ${sessionId} joe`, `ended ${sessionId} joe`];
    for (const watch of watches) {
      expect(watch.seen()).toEqual(expected);
      watch.call.cancel();
    }
    joe.end();
    ann.end();
  });

  test("a session whose agent was on an instance that stopped is back in the queue: watches on the others see it waiting again", async () => {
    deployment = await startDeployment(2, ['--instance-lease-seconds', '5']);
    const [a, b] = deployment.instances.map((i) => i.address);
    const admin = connectAdmin(a!);
    const chats = [connect(a!, { ownConnection: true }), connect(b!, { ownConnection: true })];
    clients.push(admin, ...chats);
    const watch = await watchQueue(admin);
    const joe = new CustomerStream(chats[0]!, 'joe');
    const { sessionId } = await joe.init();
    const ann = new AgentStream(chats[1]!, 'agent-ann'); // on instance B, which stops
    await ann.accept(sessionId);
    await watch.waitForEvents(2);
    await deployment.instances[1]!.stop(); // releases its lease: its agents' sessions rejoin the queue
    expect(await watch.waitForEvents(3)).toEqual([`waiting ${sessionId} joe`, `taken ${sessionId} joe`, `waiting ${sessionId} joe`]);
    watch.call.cancel();
    joe.end();
  });

  test('a watch whose instance lost its channel to the others for a moment ends with UNAVAILABLE: changes may have been missed', async () => {
    deployment = await startDeployment(1);
    const admin = connectAdmin(deployment.instances[0]!.address);
    clients.push(admin);
    const watch = await watchQueue(admin);
    // The instance's listening connection is the one whose last statement was its LISTEN.
    const client = new pg.Client(connectionConfig({ url: deployment.schema.url, schema: deployment.schema.schema }));
    await client.connect();
    try {
      const { rowCount } = await client.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND query LIKE $1", [`%${deployment.schema.schema}%`]);
      expect(rowCount).toBe(1);
    } finally {
      await client.end();
    }
    await waitFor(() => watch.status() !== undefined, 20_000, 'the watch to end');
    expect(watch.status()).toMatchObject({ code: grpc.status.UNAVAILABLE, details: "some of the queue's changes could not be received; watch again" });
    // Once the channel listens again (a new watch is refused with UNAVAILABLE until then), a new watch sees changes.
    const deadline = Date.now() + 10_000;
    let again: QueueWatch | undefined;
    while (!again) {
      again = await watchQueue(admin).catch((error: Error) => {
        if (Date.now() > deadline) throw error;
        return new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 50));
      });
    }
    const chat = connect(deployment.instances[0]!.address);
    clients.push(chat);
    const joe = new CustomerStream(chat, 'joe');
    const { sessionId } = await joe.init();
    expect(await again.waitForEvents(1)).toEqual([`waiting ${sessionId} joe`]);
    joe.end();
    again.call.cancel();
  });
});
