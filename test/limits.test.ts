import { expect } from '@jest/globals';
import { status } from '@grpc/grpc-js';
import { Session, type SupportClient } from '../gen/support';
import { AgentStream, connect, CustomerStream, describeAgentResponse, describeHistory } from './helpers/chat-client';
import { startTestServer, type TestServer } from './helpers/test-server';
import { waitFor } from './helpers/wait';

let server: TestServer | undefined;
let clients: SupportClient[] = [];

async function serve(flags: string[]): Promise<SupportClient> {
  server = await startTestServer(flags);
  return client();
}

function client(ownConnection = false): SupportClient {
  const c = connect(server!.address, { ownConnection });
  clients.push(c);
  return c;
}

afterEach(async () => {
  clients.forEach((c) => c.close());
  clients = [];
  await server?.stop();
  server = undefined;
});

describe('--max-message-bytes', () => {
  test('a text of exactly the limit in UTF-8 bytes is accepted; one byte more fails with INVALID_ARGUMENT', async () => {
    const c = await serve(['--max-message-bytes', '10']);
    const customer = new CustomerStream(c, 'joe');
    const { sessionId } = await customer.init();
    const agent = new AgentStream(c, 'agent-a');
    await agent.accept(sessionId);
    customer.send('ééééé'); // 10 bytes in 5 characters
    expect(describeAgentResponse(await agent.next())).toBe('customer: ééééé');
    agent.send('0123456789');
    agent.send('0123456789a');
    expect(await agent.endCode()).toBe(status.INVALID_ARGUMENT);
    customer.send('éééééa');
    expect(await customer.endCode()).toBe(status.INVALID_ARGUMENT);

    const check = new CustomerStream(c, 'joe');
    expect((await check.init(sessionId)).history.map((e) => e.entry?.value)).toEqual(['ééééé', { agentName: 'agent-a', msg: '0123456789' }]);
  });
});

describe('--max-history-bytes', () => {
  test('the message that would pass the limit fails with RESOURCE_EXHAUSTED; the session stays open and its encoded history fits', async () => {
    const limit = 300;
    const c = await serve(['--max-history-bytes', String(limit)]);
    const customer = new CustomerStream(c, 'joe');
    const { sessionId } = await customer.init();
    const agent = new AgentStream(c, 'agent-a');
    await agent.accept(sessionId);
    const text = 'x'.repeat(50);
    let received = agent.responses.length;
    for (let i = 0; i < 100 && !customer.status; i++) {
      customer.send(text); // one at a time: the agent sees it, or the customer's stream ends
      await waitFor(() => agent.responses.length > received || customer.status !== undefined, 5000, 'the message or the end');
      received = agent.responses.length;
    }
    expect(await customer.endCode()).toBe(status.RESOURCE_EXHAUSTED);
    const stored = received - 1; // every message the agent got, minus the accepted session

    const resumed = new CustomerStream(c, 'joe');
    const session = await resumed.init(sessionId);
    expect(session.history).toHaveLength(stored);
    const historyBytes = Session.encode({ sessionId: '', customerName: '', history: session.history }).finish().length;
    const oneEntryBytes = historyBytes / stored;
    expect(historyBytes).toBeLessThanOrEqual(limit);
    expect(historyBytes + oneEntryBytes).toBeGreaterThan(limit);

    resumed.send('ok'); // the session is still open: a small message still fits
    expect(describeAgentResponse(await agent.next())).toBe(`customer: ${text}`);
    await waitFor(() => agent.responses.some((r) => describeAgentResponse(r) === 'customer: ok'), 5000, 'the small message');
  });
});

describe('--max-open-sessions', () => {
  test('a customer can hold exactly the limit of open sessions; one more init fails with RESOURCE_EXHAUSTED until one ends', async () => {
    const c = await serve(['--max-open-sessions', '2']);
    const first = new CustomerStream(c, 'joe');
    const { sessionId } = await first.init();
    await new CustomerStream(c, 'joe').init();
    const third = new CustomerStream(c, 'joe');
    third.sendInit();
    expect(await third.endCode()).toBe(status.RESOURCE_EXHAUSTED);
    await new CustomerStream(c, 'ann').init(); // the limit is per customer

    // hang_up gets no reply; an agent's session_ended shows it was committed (SPEC §3: committed first, then told).
    const watcher = new AgentStream(c, 'agent-watch');
    await watcher.accept(sessionId);
    first.hangUp();
    expect(describeAgentResponse(await watcher.next())).toBe('session ended');
    const after = new CustomerStream(c, 'joe');
    await after.init();
    const fourth = new CustomerStream(c, 'joe');
    fourth.sendInit();
    expect(await fourth.endCode()).toBe(status.RESOURCE_EXHAUSTED); // exactly one place was freed
  });
});

describe('--stream-queue', () => {
  test('an agent that stops reading is cut with RESOURCE_EXHAUSTED; the customer and other agents carry on, and history has everything', async () => {
    const c = await serve(['--stream-queue', '50', '--max-messages-per-second', '0']);
    const customer = new CustomerStream(c, 'joe');
    const { sessionId } = await customer.init();
    const stalled = new AgentStream(client(true), 'agent-stalled'); // own connection: its flow control is its own
    await stalled.accept(sessionId);
    const reader = new AgentStream(c, 'agent-reader');
    await reader.accept(sessionId);
    stalled.call.pause(); // stops reading: HTTP/2 flow control pushes back on the server

    const total = 3000;
    const text = 'm'.repeat(500);
    for (let i = 0; i < total; i++) customer.send(`${i} ${text}`);
    await waitFor(() => reader.responses.length === total + 1, 20_000, 'the reading agent to get every message');

    stalled.call.resume();
    expect(await stalled.endCode(20_000)).toBe(status.RESOURCE_EXHAUSTED);
    expect(stalled.responses.length).toBeLessThan(total + 1); // it was cut, not served in full
    expect(customer.status).toBeUndefined();

    const again = new AgentStream(c, 'agent-stalled');
    expect((await again.accept(sessionId)).history).toHaveLength(total);
  }, 60_000);
});

describe('--max-streams-per-connection', () => {
  test('one connection carries at most the limit of concurrent streams; the next waits until one ends', async () => {
    const c = await serve(['--max-streams-per-connection', '2']);
    const first = new CustomerStream(c, 'joe');
    await first.init();
    const second = new CustomerStream(c, 'ann');
    await second.init();
    const third = new CustomerStream(c, 'bob');
    third.sendInit();
    // A barrier on another connection: by the time it is served, the third stream would have been too.
    await new CustomerStream(client(true), 'eve').init();
    expect(third.responses).toEqual([]);
    expect(server!.logs.filter((l) => l.msg === 'stream started' && l.user === 'bob')).toEqual([]);

    first.end();
    expect(await first.endCode()).toBe(status.OK);
    expect((await third.next()).resp?.$case).toBe('session');
  });
});

describe('--idle-timeout-seconds', () => {
  test('an open session without its customer is ended after the timeout; its agent gets session_ended', async () => {
    const c = await serve(['--idle-timeout-seconds', '1']);
    const customer = new CustomerStream(c, 'joe');
    const { sessionId } = await customer.init();
    const agent = new AgentStream(c, 'agent-a');
    await agent.accept(sessionId);
    customer.end(); // detaches; the session stays open for now
    expect(await customer.endCode()).toBe(status.OK);

    expect(describeAgentResponse(await agent.next(10_000))).toBe('session ended');
    const resumed = new CustomerStream(c, 'joe');
    resumed.sendInit(sessionId);
    expect(await resumed.endCode()).toBe(status.FAILED_PRECONDITION);
  });

  test('a session whose customer stays attached is not ended, however long it is quiet', async () => {
    const c = await serve(['--idle-timeout-seconds', '1']);
    const attached = new CustomerStream(c, 'joe');
    const { sessionId } = await attached.init();
    const detached = new CustomerStream(c, 'ann');
    const other = await detached.init();
    detached.cancel();
    // Once the detached one is ended by the sweep, the attached one has been idle as long.
    await waitFor(() => server!.logs.some((l) => l.msg === 'ended idle sessions'), 10_000, 'the sweep');
    const check = new CustomerStream(c, 'ann');
    check.sendInit(other.sessionId);
    expect(await check.endCode()).toBe(status.FAILED_PRECONDITION);
    const agent = new AgentStream(c, 'agent-a');
    await agent.accept(sessionId);
    attached.send('still here');
    expect(describeAgentResponse(await agent.next())).toBe('customer: still here');
  });

  test('time while the server was down counts: a session idle across a restart is ended at start-up', async () => {
    const c = await serve(['--idle-timeout-seconds', '2']);
    const customer = new CustomerStream(c, 'joe');
    const { sessionId } = await customer.init();
    customer.end();
    await customer.ended();
    const detachedAt = Date.now();
    await server!.restart(() => waitFor(() => Date.now() - detachedAt > 2500, 5000, 'the timeout to pass while down'));
    const resumed = new CustomerStream(client(), 'joe');
    resumed.sendInit(sessionId);
    expect(await resumed.endCode()).toBe(status.FAILED_PRECONDITION);
  });
});

describe('--max-history-entries', () => {
  test('the message past the entry limit fails with RESOURCE_EXHAUSTED however small; the session stays open for others to read', async () => {
    const c = await serve(['--max-history-entries', '5']);
    const customer = new CustomerStream(c, 'joe');
    const { sessionId } = await customer.init();
    const agent = new AgentStream(c, 'agent-a');
    await agent.accept(sessionId);
    for (const text of ['1', '2', '3', '4']) customer.send(text);
    await agent.take(4);
    agent.send('5');
    await customer.next(); // the agent's 5th entry reached the customer: all five are committed
    customer.send('6');
    expect(await customer.ended()).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/5 entries/) });
    const again = new CustomerStream(c, 'joe');
    expect(describeHistory(await again.init(sessionId))).toEqual(['customer: 1', 'customer: 2', 'customer: 3', 'customer: 4', 'agent-a: 5']);
    agent.send('7');
    expect(await agent.endCode()).toBe(status.RESOURCE_EXHAUSTED);
  });
});

describe('--max-joins-per-minute', () => {
  test('init and accept count per user over all its streams; past the limit they fail with RESOURCE_EXHAUSTED, other users go on', async () => {
    const c = await serve(['--max-joins-per-minute', '3']);
    const customer = new CustomerStream(c, 'joe');
    const { sessionId } = await customer.init(); // 1 for joe
    const resumed = new CustomerStream(c, 'joe');
    await resumed.init(sessionId); // 2
    const agent = new AgentStream(c, 'agent-a');
    await agent.accept(sessionId); // 1 for agent-a
    agent.leave();
    await agent.accept(sessionId); // 2
    agent.leave();
    await agent.accept(sessionId); // 3
    agent.leave();
    agent.sendAccept(sessionId); // 4: refused
    expect(await agent.ended()).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/joins/) });
    const third = new CustomerStream(c, 'joe');
    await third.init(sessionId); // 3 for joe, on yet another stream
    const fourth = new CustomerStream(c, 'joe');
    fourth.sendInit(sessionId);
    expect(await fourth.endCode()).toBe(status.RESOURCE_EXHAUSTED);
    await new AgentStream(c, 'agent-b').accept(sessionId); // another user is not affected
  });

  test('0 turns the limit off', async () => {
    const c = await serve(['--max-joins-per-minute', '0']);
    const customer = new CustomerStream(c, 'joe');
    const { sessionId } = await customer.init();
    const agent = new AgentStream(c, 'agent-a');
    for (let i = 0; i < 150; i++) {
      await agent.accept(sessionId);
      agent.leave();
    }
    expect(agent.status).toBeUndefined();
  });
});

describe('--max-streams-per-user', () => {
  test('a user holds at most the limit of streams over all connections; the next ends with RESOURCE_EXHAUSTED before any request, and a place frees when one ends', async () => {
    const c = await serve(['--max-streams-per-user', '3']);
    const open = [new CustomerStream(c, 'joe'), new CustomerStream(client(true), 'joe'), new CustomerStream(client(true), 'joe')];
    for (const stream of open) await stream.init();
    const refused = new CustomerStream(client(true), 'joe'); // sends nothing
    expect(await refused.ended()).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/too many streams/) });
    await new CustomerStream(c, 'ann').init(); // another user
    open[0]!.end();
    await open[0]!.ended();
    await new CustomerStream(c, 'joe').init();
  });
});

describe('--max-connections', () => {
  test('connections past the limit are refused; the open ones are served, and a place frees when one closes', async () => {
    const c = await serve(['--max-connections', '2']);
    await new CustomerStream(c, 'joe').init();
    const second = client(true);
    const annStream = new CustomerStream(second, 'ann');
    await annStream.init();
    const third = new CustomerStream(client(true), 'bob');
    third.sendInit();
    expect(await third.endCode()).toBe(status.UNAVAILABLE);
    expect(server!.logs.filter((l) => l.msg === 'stream started' && l.user === 'bob')).toEqual([]);
    annStream.cancel();
    second.close(); // closes the connection once its last call is over
    await waitFor(() => server!.liveState().calls === 1, 5000, "the second connection's stream to end");
    const fourth = new CustomerStream(client(true), 'eve');
    await fourth.init();
  });
});
