import { status } from '@grpc/grpc-js';
import type { SupportClient } from '../gen/support';
import { AgentStream, CustomerStream, describeAgentResponse } from './helpers/chat-client';
import { useServerPerTest, type TestServer } from './helpers/test-server';
import { waitFor } from './helpers/wait';

// Every way a stream can end unsubscribes and detaches it: nothing stays behind in memory.

let server: TestServer;
let client: SupportClient;
useServerPerTest((started, connected) => {
  server = started;
  client = connected;
});

const nothingLive = { calls: 0, subscribedSessions: 0, attachedSessions: 0, usersWithStreams: 0, bufferedBytes: 0 };

async function expectNothingLive(): Promise<void> {
  await waitFor(() => JSON.stringify(server.liveState()) === JSON.stringify(nothingLive), 5000, 'every stream to be cleaned up');
  expect(server.liveState()).toEqual(nothingLive);
}

test('streams that half-close, fail, are cancelled, are taken over or see their session end leave nothing behind', async () => {
  // Half-close of a customer and of an agent attached to a session.
  const customer = new CustomerStream(client, 'joe');
  const { sessionId } = await customer.init();
  const agent = new AgentStream(client, 'agent-a');
  await agent.accept(sessionId);
  expect(server.liveState()).toMatchObject({ calls: 2, subscribedSessions: 1, attachedSessions: 1, usersWithStreams: 2 });
  customer.end();
  agent.end();
  expect(await customer.endCode()).toBe(status.OK);
  expect(await agent.endCode()).toBe(status.OK);
  await expectNothingLive();

  // An error status in a session (an empty message), and a client cancel.
  const failing = new CustomerStream(client, 'joe');
  await failing.init(sessionId);
  failing.send('');
  expect(await failing.endCode()).toBe(status.INVALID_ARGUMENT);
  const cancelled = new AgentStream(client, 'agent-a');
  await cancelled.accept(sessionId);
  cancelled.cancel();
  await expectNothingLive();

  // A takeover by the same customer, then a hang-up that ends the agent's session.
  const first = new CustomerStream(client, 'joe');
  await first.init(sessionId);
  const second = new CustomerStream(client, 'joe');
  await second.init(sessionId);
  expect(await first.endCode()).toBe(status.ABORTED);
  const watching = new AgentStream(client, 'agent-b');
  await watching.accept(sessionId);
  second.hangUp();
  expect(describeAgentResponse(await watching.next())).toBe('session ended');
  second.end();
  watching.end();
  expect(await second.endCode()).toBe(status.OK);
  expect(await watching.endCode()).toBe(status.OK);
  await expectNothingLive();
});
