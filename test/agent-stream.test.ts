import { status } from '@grpc/grpc-js';
import type { Session, SupportClient } from '../gen/support';
import { AgentStream, describeAgentResponse, describeCustomerResponse, describeHistory, nextDescribed, streamsOf } from './helpers/chat-client';
import { useServerPerTest } from './helpers/test-server';
import { waitFor } from './helpers/wait';

// SPEC §4: the ChatAgent stream.

let client: SupportClient;
useServerPerTest((_started, connected) => {
  client = connected;
});

const { customer, agent } = streamsOf(() => client);

/**
 * accept{} on a fresh stream: the session taken from the queue, or the failure code. The stream
 * stays attached (ending it would put the session back in the queue).
 */
async function acceptFromQueue(user: string): Promise<Session | status> {
  const stream = agent(user);
  stream.sendAccept();
  const response = await stream.next().catch(() => undefined);
  if (!response) return stream.status!.code;
  if (response.resp?.$case !== 'acceptedSession') throw new Error(`expected an accepted session, got ${JSON.stringify(response)}`);
  return response.resp.value;
}

/**
 * accept{} on fresh streams until one gets a session (for a requeue that the server does when it
 * notices a broken stream, which the client cannot observe directly). The stream stays open.
 */
async function acceptWhenQueued(user: string, timeoutMs = 5000): Promise<{ stream: AgentStream; session: Session }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stream = agent(user);
    stream.sendAccept();
    const response = await stream.next().catch(() => undefined);
    if (response?.resp?.$case === 'acceptedSession') return { stream, session: response.resp.value };
    if (stream.status?.code !== status.FAILED_PRECONDITION) throw new Error(`accept{} failed with ${stream.status?.code}`);
    if (Date.now() > deadline) throw new Error('no session came back to the queue');
  }
}

/** Waits until the wall clock has moved past `t` (ms), so that a later event gets a later moment. */
async function clockPast(t: number): Promise<void> {
  await waitFor(() => Date.now() > t, 1000, 'the clock to tick');
}

describe('accept{}', () => {
  test('accept{} takes sessions in the order they started awaiting (FIFO over four sessions)', async () => {
    const sessions: Session[] = [];
    for (const user of ['c1', 'c2', 'c3', 'c4']) {
      const stream = customer(user);
      sessions.push(await stream.init());
    }
    const taken: string[] = [];
    for (let i = 0; i < 4; i++) {
      const a = agent(`agent-${i}`);
      const accepted = await a.accept();
      taken.push(accepted.sessionId);
      expect(accepted.customerName).toBe(`c${i + 1}`);
    }
    expect(taken).toEqual(sessions.map((s) => s.sessionId));
    expect(await acceptFromQueue('agent-late')).toBe(status.FAILED_PRECONDITION);
  });

  test('accept{} returns the full history of the session', async () => {
    const joe = customer();
    const session = await joe.init();
    const a = agent('agent-a');
    await a.accept();
    joe.send('one');
    expect(await nextDescribed(a)).toBe('customer: one');
    a.send('two');
    expect(describeCustomerResponse(await joe.next())).toBe('agent-a: two');
    a.leave(); // the last agent: the session rejoins the queue (on a's stream, so b polls for it)
    const { session: accepted } = await acceptWhenQueued('agent-b');
    expect(accepted.sessionId).toBe(session.sessionId);
    expect(accepted.customerName).toBe('joe');
    expect(describeHistory(accepted)).toEqual(['customer: one', 'agent-a: two']);
    expect(accepted.history.every((entry) => entry.date instanceof Date)).toBe(true);
  });

  test('accept{} on an empty queue fails with FAILED_PRECONDITION', async () => {
    const a = agent();
    a.sendAccept();
    expect(await a.endCode()).toBe(status.FAILED_PRECONDITION);
    expect(a.responses).toEqual([]);
  });

  test('accept{} never takes an attended session: with every session attended the queue is empty', async () => {
    const session = await customer().init();
    await agent('agent-a').accept(session.sessionId);
    expect(await acceptFromQueue('agent-b')).toBe(status.FAILED_PRECONDITION);
  });
});

describe('accept{session_id}', () => {
  test('accept{X} of an awaiting session attaches to it, and it leaves the queue', async () => {
    const s1 = await customer('c1').init();
    const c2 = customer('c2');
    const s2 = await c2.init();
    c2.send('pick me');
    const a = agent('agent-a');
    // The message is committed before the accept is answered, or pushed right after it: either way
    // exactly once. A barrier message after the accept reply comes after any push of 'pick me'.
    const accepted = await a.accept(s2.sessionId);
    expect(accepted.sessionId).toBe(s2.sessionId);
    expect(accepted.customerName).toBe('c2');
    c2.send('barrier');
    await waitFor(() => a.unread().some((r) => describeAgentResponse(r) === 'customer: barrier'), 5000, 'the barrier message');
    expect([...describeHistory(accepted), ...a.unread().map(describeAgentResponse)]).toEqual(['customer: pick me', 'customer: barrier']);

    const next = await acceptFromQueue('agent-b');
    expect(next).toMatchObject({ sessionId: s1.sessionId });
    expect(await acceptFromQueue('agent-c')).toBe(status.FAILED_PRECONDITION);
  });

  test('accept{X} of a session attended by another agent attaches a second agent with the full history', async () => {
    const joe = customer();
    const session = await joe.init();
    const a = agent('agent-a');
    await a.accept();
    joe.send('hi');
    expect(await nextDescribed(a)).toBe('customer: hi');
    a.send('hello, how can I help?');
    expect(describeCustomerResponse(await joe.next())).toBe('agent-a: hello, how can I help?');

    const b = agent('agent-b');
    const accepted = await b.accept(session.sessionId);
    expect(accepted.sessionId).toBe(session.sessionId);
    expect(describeHistory(accepted)).toEqual(['customer: hi', 'agent-a: hello, how can I help?']);

    joe.send('both of you?');
    expect(await nextDescribed(a)).toBe('customer: both of you?');
    expect(await nextDescribed(b)).toBe('customer: both of you?');
  });

  test('accept{X} of an unknown session fails with NOT_FOUND', async () => {
    const a = agent();
    a.sendAccept('no-such-session');
    expect(await a.endCode()).toBe(status.NOT_FOUND);
  });

  test('accept{X} of an ended session fails with FAILED_PRECONDITION', async () => {
    const joe = customer();
    const session = await joe.init();
    joe.hangUp();
    joe.end();
    expect(await joe.endCode()).toBe(status.OK);
    const a = agent();
    a.sendAccept(session.sessionId);
    expect(await a.endCode()).toBe(status.FAILED_PRECONDITION);
  });

  test('accept{X} with an id of 129 characters fails with INVALID_ARGUMENT; 128 characters is looked up (NOT_FOUND)', async () => {
    const long = agent();
    long.sendAccept('x'.repeat(129));
    expect(await long.endCode()).toBe(status.INVALID_ARGUMENT);
    const max = agent();
    max.sendAccept('x'.repeat(128));
    expect(await max.endCode()).toBe(status.NOT_FOUND);
  });
});

describe('requests in the wrong state', () => {
  test('accept{} on a connected stream fails with FAILED_PRECONDITION and takes nothing from the queue', async () => {
    const s1 = await customer('c1').init();
    const s2 = await customer('c2').init();
    const a = agent();
    expect((await a.accept()).sessionId).toBe(s1.sessionId);
    a.sendAccept();
    expect(await a.endCode()).toBe(status.FAILED_PRECONDITION);
    expect(a.unread()).toEqual([]);
    // s2 is still queued (and s1, whose agent's stream ended, is queued behind it).
    expect(await acceptFromQueue('agent-b')).toMatchObject({ sessionId: s2.sessionId });
  });

  test('accept{X} on a connected stream fails with FAILED_PRECONDITION', async () => {
    const session = await customer().init();
    const a = agent();
    await a.accept();
    a.sendAccept(session.sessionId);
    expect(await a.endCode()).toBe(status.FAILED_PRECONDITION);
  });

  test('msg on a disconnected stream fails with FAILED_PRECONDITION', async () => {
    const a = agent();
    a.send('anyone?');
    expect(await a.endCode()).toBe(status.FAILED_PRECONDITION);
    expect(a.responses).toEqual([]);
  });

  test('leave_session on a disconnected stream fails with FAILED_PRECONDITION', async () => {
    const a = agent();
    a.leave();
    expect(await a.endCode()).toBe(status.FAILED_PRECONDITION);
  });

  test('leave_session twice fails the second time with FAILED_PRECONDITION', async () => {
    await customer().init();
    const a = agent();
    await a.accept();
    a.leave();
    a.leave();
    expect(await a.endCode()).toBe(status.FAILED_PRECONDITION);
  });

  test('a request with no field set fails with INVALID_ARGUMENT, disconnected or connected', async () => {
    const idle = agent('agent-idle');
    idle.write({ req: undefined });
    expect(await idle.endCode()).toBe(status.INVALID_ARGUMENT);

    await customer().init();
    const busy = agent('agent-busy');
    await busy.accept();
    busy.write({ req: undefined });
    expect(await busy.endCode()).toBe(status.INVALID_ARGUMENT);
  });
});

describe('messages between several agents', () => {
  test("an agent's msg reaches the customer as msg and every other agent as an agent_msg entry, never the sender", async () => {
    const joe = customer();
    const session = await joe.init();
    const a = agent('Agent-A');
    const b = agent('agent-b');
    const c = agent('agent-c');
    await a.accept();
    await b.accept(session.sessionId);
    await c.accept(session.sessionId);

    a.send('from a');
    expect(await joe.next()).toEqual({ resp: { $case: 'msg', value: { agentName: 'agent-a', msg: 'from a' } } });
    const atB = await b.next();
    expect(atB.resp?.$case).toBe('msg');
    if (atB.resp?.$case === 'msg') {
      expect(atB.resp.value.entry).toEqual({ $case: 'agentMsg', value: { agentName: 'agent-a', msg: 'from a' } });
      expect(atB.resp.value.date).toBeInstanceOf(Date);
    }
    expect(await nextDescribed(c)).toBe('agent-a: from a');

    b.send('from b');
    // a's next response is b's message: its own was not echoed before it.
    expect(await nextDescribed(a)).toBe('agent-b: from b');
    expect(await nextDescribed(c)).toBe('agent-b: from b');
    expect(describeCustomerResponse(await joe.next())).toBe('agent-b: from b');

    joe.send('from the customer');
    expect(await nextDescribed(a)).toBe('customer: from the customer');
    expect(await nextDescribed(b)).toBe('customer: from the customer');
    expect(await nextDescribed(c)).toBe('customer: from the customer');
    expect([a.unread(), b.unread(), c.unread(), joe.unread()]).toEqual([[], [], [], []]);
  });
});

describe('leave_session', () => {
  test('after leave_session the stream gets nothing more and may accept the same session again, with the full history', async () => {
    const joe = customer();
    const session = await joe.init();
    const a = agent('agent-a');
    const observer = agent('agent-observer');
    await a.accept();
    await observer.accept(session.sessionId);
    joe.send('before');
    expect(await nextDescribed(a)).toBe('customer: before');
    expect(await nextDescribed(observer)).toBe('customer: before');

    a.leave();
    // The observer sees a's departure only indirectly: wait until the message is committed.
    joe.send('while away');
    expect(await nextDescribed(observer)).toBe('customer: while away');
    const again = await a.accept(session.sessionId); // the next response is the session, not the message
    expect(describeHistory(again)).toEqual(['customer: before', 'customer: while away']);

    joe.send('after');
    expect(await nextDescribed(a)).toBe('customer: after');
    expect(a.unread()).toEqual([]);
  });

  test('a message sent between leave_session and the next accept is delivered once, in the history or live', async () => {
    const joe = customer();
    const session = await joe.init();
    const a = agent('agent-a');
    await a.accept();
    a.leave();
    joe.send('in between');
    const again = await a.accept(session.sessionId);
    joe.send('marker');
    const seen = describeHistory(again);
    for (;;) {
      const text = await nextDescribed(a);
      if (text === 'customer: marker') break;
      seen.push(text);
    }
    expect(seen).toEqual(['customer: in between']);
  });

  test('when the last agent leaves, the session rejoins the queue at its end', async () => {
    const s1 = await customer('c1').init();
    const s2 = await customer('c2').init();
    const s2CreatedBy = Date.now();
    const a = agent('agent-a');
    expect((await a.accept()).sessionId).toBe(s1.sessionId);
    await clockPast(s2CreatedBy);
    a.leave();
    // Requests of one stream are handled in order: the leave is done before this accept.
    expect((await a.accept()).sessionId).toBe(s2.sessionId);
    expect(await acceptFromQueue('agent-b')).toMatchObject({ sessionId: s1.sessionId });
    expect(await acceptFromQueue('agent-c')).toBe(status.FAILED_PRECONDITION);
  });

  test('when an agent leaves but another stays, the session does not rejoin the queue', async () => {
    const session = await customer().init();
    const a = agent('agent-a');
    const b = agent('agent-b');
    await a.accept();
    await b.accept(session.sessionId);
    a.leave();
    a.sendAccept(); // handled after the leave
    expect(await a.endCode()).toBe(status.FAILED_PRECONDITION);
  });
});

describe('takeover, half-close and broken streams', () => {
  test('a second stream of the same agent id takes the session over: the old one ends ABORTED and the session does not rejoin the queue', async () => {
    const joe = customer();
    const session = await joe.init();
    const old = agent('agent-a');
    await old.accept();
    joe.send('one');
    expect(await nextDescribed(old)).toBe('customer: one');

    const fresh = agent('AGENT-A');
    const accepted = await fresh.accept(session.sessionId);
    expect(describeHistory(accepted)).toEqual(['customer: one']);
    expect(await old.endCode()).toBe(status.ABORTED);

    expect(await acceptFromQueue('agent-b')).toBe(status.FAILED_PRECONDITION);
    joe.send('two');
    expect(await nextDescribed(fresh)).toBe('customer: two');
    fresh.send('the new stream answers');
    expect(describeCustomerResponse(await joe.next())).toBe('agent-a: the new stream answers');
    expect(old.unread()).toEqual([]);
    // Still not in the queue after the message round trip.
    expect(await acceptFromQueue('agent-c')).toBe(status.FAILED_PRECONDITION);
  });

  test('an agent half-close completes the call with OK and the session rejoins the queue', async () => {
    const session = await customer().init();
    const a = agent('agent-a');
    await a.accept();
    a.end();
    expect(await a.endCode()).toBe(status.OK);
    const { stream, session: requeued } = await acceptWhenQueued('agent-b');
    expect(requeued.sessionId).toBe(session.sessionId);
    stream.end();
  });

  test('a broken agent stream (cancel) detaches the agent and the session rejoins the queue', async () => {
    const joe = customer();
    const session = await joe.init();
    const a = agent('agent-a');
    await a.accept();
    a.cancel();
    expect(await a.endCode()).toBe(status.CANCELLED);
    const { stream, session: requeued } = await acceptWhenQueued('agent-b');
    expect(requeued.sessionId).toBe(session.sessionId);
    joe.send('still here');
    expect(await nextDescribed(stream)).toBe('customer: still here');
  });
});

describe('session_ended', () => {
  test('when the customer hangs up the agent gets session_ended, its stream stays open and can accept again', async () => {
    const joe = customer('c1');
    await joe.init();
    const c2 = customer('c2');
    const s2 = await c2.init();
    const a = agent();
    await a.accept();
    joe.send('bye');
    expect(await nextDescribed(a)).toBe('customer: bye');
    joe.hangUp();
    expect(await a.next()).toEqual({ resp: { $case: 'sessionEnded', value: 0 } });
    expect(a.status).toBeUndefined();

    const next = await a.accept();
    expect(next.sessionId).toBe(s2.sessionId);
    a.send('next customer please');
    expect(describeCustomerResponse(await c2.next())).toBe('agent-a: next customer please');
    a.leave();
    a.end();
    expect(await a.endCode()).toBe(status.OK);
  });
});
