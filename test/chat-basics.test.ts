import { status } from '@grpc/grpc-js';
import type { SupportClient } from '../gen/support';
import { AgentStream, CustomerStream, describeAgentResponse, describeCustomerResponse } from './helpers/chat-client';
import { useServerPerTest } from './helpers/test-server';

let client: SupportClient;
useServerPerTest((_started, connected) => {
  client = connected;
});

test('a customer and an agent chat: each sees the other, nobody sees an echo', async () => {
  const customer = new CustomerStream(client, 'Joe');
  const session = await customer.init();
  expect(session.customerName).toBe('joe');
  expect(session.history).toEqual([]);
  expect(session.sessionId).toMatch(/^[A-Za-z0-9_-]{22,}$/);

  const agent = new AgentStream(client, 'agent-smith');
  const accepted = await agent.accept();
  expect(accepted.sessionId).toBe(session.sessionId);

  customer.send('my card is lost');
  expect(describeAgentResponse(await agent.next())).toBe('customer: my card is lost');
  agent.send('I can help');
  expect(describeCustomerResponse(await customer.next())).toBe('agent-smith: I can help');

  customer.hangUp();
  expect(describeAgentResponse(await agent.next())).toBe('session ended');
  customer.end();
  agent.end();
  expect(await customer.endCode()).toBe(status.OK);
  expect(await agent.endCode()).toBe(status.OK);
  expect(customer.unread()).toEqual([]);
  expect(agent.unread()).toEqual([]);

  const check = new AgentStream(client, 'agent-smith');
  check.sendAccept(session.sessionId);
  expect(await check.endCode()).toBe(status.FAILED_PRECONDITION);

  const resumed = new CustomerStream(client, 'joe');
  resumed.sendInit(session.sessionId);
  expect(await resumed.endCode()).toBe(status.FAILED_PRECONDITION);
});
