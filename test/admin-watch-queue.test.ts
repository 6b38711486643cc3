import { expect } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import type { SupportAdminServiceClient } from '../gen/support/admin/v1/admin';
import type { SupportClient } from '../gen/support';
import { connectAdmin, demoToken, unary } from './helpers/admin-client';
import { AgentStream, connect, CustomerStream } from './helpers/chat-client';
import { watchQueue } from './helpers/queue-watch';
import { startTestServer, type TestServer } from './helpers/test-server';
import { waitFor } from './helpers/wait';

// WatchQueue on SQLite: a session started waiting, was taken, ended, as it happens (admin-watch-queue-postgres.test.ts: across instances).

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
