import { status } from '@grpc/grpc-js';
import type { ChatAgentResponse, Session, SupportClient } from '../gen/support';
import { describeCustomerResponse, describeHistory, nextDescribed, streamsOf } from './helpers/chat-client';
import { useServerPerTest } from './helpers/test-server';

// SPEC §3: the ChatCustomer stream.

let client: SupportClient;
useServerPerTest((_started, connected) => {
  client = connected;
});

const { customer, agent } = streamsOf(() => client);

function isSessionEnded(response: ChatAgentResponse): boolean {
  return response.resp?.$case === 'sessionEnded';
}

/** A resume on a fresh stream of `user`; returns the session or the failure code. */
async function resumeOn(user: string, sessionId: string): Promise<Session | status> {
  const stream = customer(user);
  stream.sendInit(sessionId);
  await stream.next().catch(() => undefined);
  if (stream.status) return stream.status.code;
  const response = stream.responses[0]!;
  stream.end();
  await stream.ended();
  if (response.resp?.$case !== 'session') throw new Error(`expected a session, got ${JSON.stringify(response)}`);
  return response.resp.value;
}

describe('init', () => {
  test('init{} starts a new open session with the customer id and an empty history, awaiting an agent', async () => {
    const joe = customer('Joe');
    const session = await joe.init();
    expect(session.customerName).toBe('joe');
    expect(session.history).toEqual([]);
    expect(session.sessionId).toMatch(/^[A-Za-z0-9_-]{16,128}$/);

    const smith = agent();
    const accepted = await smith.accept();
    expect(accepted).toEqual({ sessionId: session.sessionId, customerName: 'joe', history: [] });
    joe.end();
    smith.end();
    expect(await joe.endCode()).toBe(status.OK);
  });

  test('each init{} creates a different session, queued at the end of the awaiting queue', async () => {
    const first = await customer('bob').init();
    const second = await customer('joe').init();
    const third = await customer('joe').init();
    expect(new Set([first.sessionId, second.sessionId, third.sessionId]).size).toBe(3);
    expect((await agent('agent-1').accept()).sessionId).toBe(first.sessionId);
    expect((await agent('agent-2').accept()).sessionId).toBe(second.sessionId);
    expect((await agent('agent-3').accept()).sessionId).toBe(third.sessionId);
  });

  test('init{resume_session_id} attaches to the session and returns its full history in order', async () => {
    const joe = customer();
    const session = await joe.init();
    const a = agent('agent-a');
    await a.accept();
    const b = agent('agent-b');
    await b.accept(session.sessionId);

    joe.send('first');
    expect(await nextDescribed(a)).toBe('customer: first');
    expect(await nextDescribed(b)).toBe('customer: first');
    a.send('second');
    expect(await nextDescribed(b)).toBe('agent-a: second');
    b.send('third');
    expect(await nextDescribed(a)).toBe('agent-b: third');
    joe.send('fourth');
    expect(await nextDescribed(a)).toBe('customer: fourth');
    a.send('fifth');
    expect((await joe.take(3)).map(describeCustomerResponse)).toEqual(['agent-a: second', 'agent-b: third', 'agent-a: fifth']);
    joe.end();
    expect(await joe.endCode()).toBe(status.OK);

    const again = customer();
    const resumed = await again.init(session.sessionId);
    expect(resumed.sessionId).toBe(session.sessionId);
    expect(resumed.customerName).toBe('joe');
    expect(describeHistory(resumed)).toEqual(['customer: first', 'agent-a: second', 'agent-b: third', 'customer: fourth', 'agent-a: fifth']);
    const dates = resumed.history.map((entry) => entry.date!.getTime());
    expect(dates.every((date, i) => i === 0 || date >= dates[i - 1]!)).toBe(true);

    // The resumed stream is live: both ways.
    again.send('sixth');
    expect(await nextDescribed(a)).toBe('customer: sixth');
    b.send('seventh');
    expect(describeCustomerResponse(await again.next())).toBe('agent-b: seventh');
  });

  test('a second init{} on a connected stream fails with FAILED_PRECONDITION and creates no session', async () => {
    const joe = customer();
    const session = await joe.init();
    joe.sendInit();
    expect(await joe.endCode()).toBe(status.FAILED_PRECONDITION);
    expect(joe.unread()).toEqual([]);

    const a = agent();
    expect((await a.accept()).sessionId).toBe(session.sessionId);
    const b = agent('agent-b');
    b.sendAccept();
    expect(await b.endCode()).toBe(status.FAILED_PRECONDITION); // the queue is empty: no second session
  });

  test('init{resume_session_id} on a connected stream fails with FAILED_PRECONDITION, even for its own session', async () => {
    const joe = customer();
    const other = await customer().init();
    const session = await joe.init();
    joe.sendInit(session.sessionId);
    expect(await joe.endCode()).toBe(status.FAILED_PRECONDITION);

    const joe2 = customer();
    await joe2.init(other.sessionId);
    joe2.sendInit(other.sessionId);
    expect(await joe2.endCode()).toBe(status.FAILED_PRECONDITION);
  });
});

describe('requests on a disconnected stream', () => {
  test('msg on a disconnected stream fails with FAILED_PRECONDITION', async () => {
    const joe = customer();
    joe.send('hello?');
    expect(await joe.endCode()).toBe(status.FAILED_PRECONDITION);
    expect(joe.responses).toEqual([]);
  });

  test('hang_up on a disconnected stream fails with FAILED_PRECONDITION', async () => {
    const joe = customer();
    joe.hangUp();
    expect(await joe.endCode()).toBe(status.FAILED_PRECONDITION);
    expect(joe.responses).toEqual([]);
  });

  test('msg after a hang_up (the stream is disconnected again) fails with FAILED_PRECONDITION', async () => {
    const joe = customer();
    await joe.init();
    joe.hangUp();
    joe.send('still there?');
    expect(await joe.endCode()).toBe(status.FAILED_PRECONDITION);
  });

  test('a second hang_up after a hang_up fails with FAILED_PRECONDITION', async () => {
    const joe = customer();
    await joe.init();
    joe.hangUp();
    joe.hangUp();
    expect(await joe.endCode()).toBe(status.FAILED_PRECONDITION);
  });
});

describe('a request with no field set', () => {
  test('fails with INVALID_ARGUMENT on a disconnected stream', async () => {
    const joe = customer();
    joe.write({ req: undefined });
    expect(await joe.endCode()).toBe(status.INVALID_ARGUMENT);
    expect(joe.responses).toEqual([]);
  });

  test('fails with INVALID_ARGUMENT on a connected stream, and the session stays open', async () => {
    const joe = customer();
    const session = await joe.init();
    joe.write({ req: undefined });
    expect(await joe.endCode()).toBe(status.INVALID_ARGUMENT);
    const resumed = await resumeOn('joe', session.sessionId);
    expect(resumed).toMatchObject({ sessionId: session.sessionId, history: [] });
  });
});

describe('resume failures', () => {
  test("resuming an unknown id and another customer's session both fail with NOT_FOUND and identical details", async () => {
    const bobs = await customer('bob').init();

    const unknown = customer('joe');
    unknown.sendInit('no-such-session-id');
    const foreign = customer('joe');
    foreign.sendInit(bobs.sessionId);
    const unknownStatus = await unknown.ended();
    const foreignStatus = await foreign.ended();
    expect(unknownStatus.code).toBe(status.NOT_FOUND);
    expect(foreignStatus.code).toBe(status.NOT_FOUND);
    expect(foreignStatus.details).toBe(unknownStatus.details);
    expect(foreignStatus.details).not.toContain(bobs.sessionId);
    expect(foreignStatus.details).not.toContain('bob');
    expect(foreign.responses).toEqual([]);

    // Bob's session is untouched and still his.
    expect(await resumeOn('bob', bobs.sessionId)).toMatchObject({ sessionId: bobs.sessionId, customerName: 'bob' });
  });

  test('resuming an ended session fails with FAILED_PRECONDITION', async () => {
    const joe = customer();
    const session = await joe.init();
    joe.hangUp();
    joe.end();
    expect(await joe.endCode()).toBe(status.OK);
    expect(await resumeOn('joe', session.sessionId)).toBe(status.FAILED_PRECONDITION);
  });

  test('a resume id of 129 characters fails with INVALID_ARGUMENT; one of 128 characters is looked up (NOT_FOUND)', async () => {
    expect(await resumeOn('joe', 'x'.repeat(129))).toBe(status.INVALID_ARGUMENT);
    expect(await resumeOn('joe', 'x'.repeat(128))).toBe(status.NOT_FOUND);
  });
});

describe('takeover', () => {
  test("a second stream of the same customer resuming the session takes it over: the first ends ABORTED, the second gets the agent's messages", async () => {
    const first = customer();
    const session = await first.init();
    const a = agent();
    await a.accept();
    a.send('before');
    expect(describeCustomerResponse(await first.next())).toBe('agent-a: before');

    const second = customer('JOE');
    const resumed = await second.init(session.sessionId);
    expect(describeHistory(resumed)).toEqual(['agent-a: before']);
    expect(await first.endCode()).toBe(status.ABORTED);

    a.send('after');
    expect(describeCustomerResponse(await second.next())).toBe('agent-a: after');
    second.send('from the second stream');
    expect(await nextDescribed(a)).toBe('customer: from the second stream');
    expect(first.unread()).toEqual([]);
    expect(a.unread()).toEqual([]); // the agent saw no session_ended: the session is still open
  });
});

describe('a resume racing the end of its session', () => {
  /**
   * One stream of the customer hangs up while another resumes the session at the same moment.
   * Whichever wins, the resuming stream is never left connected to nothing: it stays attached to
   * the open session (its message is committed), or it ends with FAILED_PRECONDITION because the
   * session ended (on init, or right after, since a customer has no session_ended message).
   */
  test('the resuming stream either stays attached or ends with FAILED_PRECONDITION, never a silent detach', async () => {
    for (let round = 0; round < 30; round++) {
      const first = customer();
      const { sessionId } = await first.init();
      const watcher = agent(`agent-watch-${round}`);
      await watcher.accept(sessionId);
      const second = customer();
      second.sendInit(sessionId);
      first.hangUp();
      const reply = await second.next().catch(() => undefined);
      if (reply) second.send('probe');
      // The watcher sees the probe, or the end; the second stream is still open only with the probe committed.
      const seen = await nextDescribed(watcher);
      const ended = await second.ended(1_000).catch(() => undefined);
      if (ended) {
        // Before the fix, a stream resumed into a session ended meanwhile got its reply, was then
        // detached silently, and its probe failed with "not in a session".
        expect({ code: status[ended.code], details: ended.details }).toEqual({ code: 'FAILED_PRECONDITION', details: 'the session has ended' });
      } else {
        expect(seen).toBe('customer: probe');
      }
      second.cancel();
      first.cancel();
      watcher.cancel();
    }
  });
});

describe('live messages', () => {
  test('agent messages arrive as msg{agent_name, msg}; the customer\'s own messages are not echoed', async () => {
    const joe = customer();
    await joe.init();
    const a = agent('Agent-Smith');
    await a.accept();
    joe.send('one');
    joe.send('two');
    expect(await nextDescribed(a)).toBe('customer: one');
    expect(await nextDescribed(a)).toBe('customer: two');
    a.send('reply');
    // The first thing the customer receives after its session is the agent's reply, not an echo.
    expect(await joe.next()).toEqual({ resp: { $case: 'msg', value: { agentName: 'agent-smith', msg: 'reply' } } });
    expect(joe.unread()).toEqual([]);
  });
});

describe('broken and half-closed streams', () => {
  test('a broken stream (cancel) leaves the session open; a new stream resumes it and finds the agent messages sent meanwhile', async () => {
    const joe = customer();
    const session = await joe.init();
    const a = agent('agent-a');
    await a.accept();
    const observer = agent('agent-observer');
    await observer.accept(session.sessionId);
    joe.send('hello');
    expect(await nextDescribed(a)).toBe('customer: hello');
    expect(await nextDescribed(observer)).toBe('customer: hello');

    joe.cancel();
    expect(await joe.endCode()).toBe(status.CANCELLED);
    a.send('are you still there?');
    // Committed before it is pushed: once the other agent has it, it is in the history.
    expect(await nextDescribed(observer)).toBe('agent-a: are you still there?');

    const again = customer();
    const resumed = await again.init(session.sessionId);
    expect(describeHistory(resumed)).toEqual(['customer: hello', 'agent-a: are you still there?']);
    expect(again.unread()).toEqual([]);

    again.send('yes');
    expect(await nextDescribed(a)).toBe('customer: yes');
    expect(a.unread()).toEqual([]); // no session_ended came before the message
    a.send('welcome back');
    expect(describeCustomerResponse(await again.next())).toBe('agent-a: welcome back');
  });

  test('a half-close completes the call with OK and leaves the session open', async () => {
    const joe = customer();
    const session = await joe.init();
    const a = agent();
    await a.accept();
    joe.send('bye for now');
    expect(await nextDescribed(a)).toBe('customer: bye for now');
    joe.end();
    expect(await joe.endCode()).toBe(status.OK);
    expect(joe.unread()).toEqual([]);

    const again = customer();
    expect(describeHistory(await again.init(session.sessionId))).toEqual(['customer: bye for now']);
    again.send('back again');
    // The agent's next response is the message, not session_ended.
    expect(await nextDescribed(a)).toBe('customer: back again');
  });
});

describe('hang_up', () => {
  test('hang_up ends the session: every attached agent gets session_ended and is detached', async () => {
    const joe = customer();
    const session = await joe.init();
    const a = agent('agent-a');
    const b = agent('agent-b');
    await a.accept();
    await b.accept(session.sessionId);
    joe.hangUp();
    expect(await a.next()).toEqual({ resp: { $case: 'sessionEnded', value: 0 } });
    expect(await b.next()).toEqual({ resp: { $case: 'sessionEnded', value: 0 } });

    // Detached: a message is now a request on a disconnected stream.
    a.send('hello?');
    expect(await a.endCode()).toBe(status.FAILED_PRECONDITION);
    // b's stream stays open and usable: a fresh accept of the ended session is refused.
    b.sendAccept(session.sessionId);
    expect(await b.endCode()).toBe(status.FAILED_PRECONDITION);
  });

  test('after hang_up the same stream may init again: a new session with an empty history', async () => {
    const joe = customer();
    const first = await joe.init();
    const a = agent();
    await a.accept();
    joe.send('first session');
    expect(await nextDescribed(a)).toBe('customer: first session');
    joe.hangUp();
    expect(isSessionEnded(await a.next())).toBe(true);

    const second = await joe.init();
    expect(second.sessionId).not.toBe(first.sessionId);
    expect(second.history).toEqual([]);
    expect(second.customerName).toBe('joe');

    // The agent stream is disconnected and can take the new session from the queue.
    expect((await a.accept()).sessionId).toBe(second.sessionId);
    joe.send('second session');
    expect(await nextDescribed(a)).toBe('customer: second session');
  });

  test('a hang-up is committed before agents are told: once an agent sees session_ended, resume and accept fail with FAILED_PRECONDITION', async () => {
    for (let round = 0; round < 5; round++) {
      const joe = customer();
      const session = await joe.init();
      const a = agent();
      await a.accept();
      joe.hangUp();
      await a.next(); // session_ended
      expect(isSessionEnded(a.responses.at(-1)!)).toBe(true);
      const resume = customer();
      resume.sendInit(session.sessionId);
      const accept = agent('agent-b');
      accept.sendAccept(session.sessionId);
      expect(await resume.endCode()).toBe(status.FAILED_PRECONDITION);
      expect(await accept.endCode()).toBe(status.FAILED_PRECONDITION);
      joe.end();
      a.end();
      expect(await joe.endCode()).toBe(status.OK);
      expect(await a.endCode()).toBe(status.OK);
    }
  });
});
