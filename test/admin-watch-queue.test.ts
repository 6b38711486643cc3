import { expect } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import type { SupportAdminServiceClient } from '../gen/support/admin/v1/admin';
import type { SupportClient } from '../gen/support';
import { connectAdmin, demoToken, unary } from './helpers/admin-client';
import { AgentStream, connect, CustomerStream } from './helpers/chat-client';
import pg from 'pg';
import { connectionConfig } from '../src/storage/postgres/postgres-connection';
import { describeWithPostgres } from './helpers/postgres';
import { startDeployment, type TestDeployment } from './helpers/postgres-deployment';
import { watchQueue, type QueueWatch } from './helpers/queue-watch';
import { startTestServer, type TestServer } from './helpers/test-server';
import { waitFor } from './helpers/wait';

// WatchQueue: a session started waiting, was taken, ended, as it happens, on every instance.

describe('WatchQueue on SQLite', () => {
  let server: TestServer;
  let admin: SupportAdminServiceClient;
  let chat: SupportClient;
  beforeEach(async () => {
    server = await startTestServer(['--max-joins-per-minute', '0', '--max-messages-per-second', '0']);
    admin = connectAdmin(server.address);
    chat = connect(server.address);
  });
  afterEach(async () => {
    admin.close();
    chat.close();
    await server.stop();
  });

  test('every change of the queue, in order, to every watch: created, taken, the last agent left, taken again, a second agent (no change), hung up, ended by an admin', async () => {
    const watches = [await watchQueue(admin), await watchQueue(admin, 'admin-lead')];
    const joe = new CustomerStream(chat, 'joe');
    const first = (await joe.init()).sessionId;
    const ann = new AgentStream(chat, 'agent-ann');
    await ann.accept(); // from the queue
    ann.leave();
    await ann.accept(first); // by its id
    const bob = new AgentStream(chat, 'agent-bob');
    await bob.accept(first); // attended already: the queue does not change
    joe.hangUp();
    expect((await ann.next()).resp?.$case).toBe('sessionEnded');
    const sue = new CustomerStream(chat, 'sue');
    const second = (await sue.init()).sessionId;
    await unary(admin, 'endSession', { sessionId: second }, demoToken('admin-ops'));
    const expected = [
      `waiting ${first} joe`,
      `taken ${first} joe`,
      `waiting ${first} joe`,
      `taken ${first} joe`,
      `ended ${first} joe`,
      `waiting ${second} sue`,
      `ended ${second} sue`,
    ];
    for (const watch of watches) {
      expect(await watch.waitForEvents(expected.length)).toEqual(expected);
      // Times are the server's, in order, and recent.
      const times = watch.responses.map((r) => r.time!.getTime());
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(Date.now() - times[0]!).toBeLessThan(60_000);
      watch.call.cancel();
    }
    for (const s of [joe, ann, bob, sue]) s.end();
  });

  test('a watch sees only what happens after it started, and ends CANCELLED when its client cancels it', async () => {
    const before = new CustomerStream(chat, 'early');
    await before.init();
    const watch = await watchQueue(admin);
    const late = new CustomerStream(chat, 'late');
    const { sessionId } = await late.init();
    expect(await watch.waitForEvents(1)).toEqual([`waiting ${sessionId} late`]);
    watch.call.cancel();
    await waitFor(() => watch.status()?.code === grpc.status.CANCELLED, 5000, 'the watch to end');
    before.end();
    late.end();
  });

  test('a watch that does not read is ended with RESOURCE_EXHAUSTED once it falls far behind; a reading one keeps up', async () => {
    const stalled = await watchQueue(admin);
    stalled.call.pause(); // reads nothing more: the server's writes back up
    const reading = await watchQueue(admin);
    const customer = new CustomerStream(chat, 'busy');
    const ROUNDS = 3_000;
    for (let i = 0; i < ROUNDS; i++) {
      customer.sendInit();
      customer.hangUp();
    }
    await waitFor(() => stalled.status() !== undefined || reading.responses.length >= 2 * ROUNDS, 60_000, 'the stalled watch to be ended');
    // Its status came although it reads nothing more: grpc-js reads the trailers once resumed.
    stalled.call.resume();
    await waitFor(() => stalled.status() !== undefined, 10_000, 'the stalled watch to be ended');
    expect(stalled.status()).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: expect.stringContaining('fell 2000 events behind') });
    await reading.waitForEvents(2 * ROUNDS, 60_000);
    expect(reading.status()).toBeUndefined();
    reading.call.cancel();
    customer.end();
  }, 120_000);
});

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
