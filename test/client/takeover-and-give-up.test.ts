import { expect } from '@jest/globals';
// When the client library must stop instead of reconnecting: another stream took the session over
// (ABORTED), or the server stayed unreachable past the give-up point.
import { status } from '@grpc/grpc-js';
import { AgentChat, CustomerChat } from '../../src/client';
import { ChatRecorder } from '../helpers/chat-recorder';
import type { RelayProxy } from '../helpers/relay-proxy';
import { useServerBehindRelay } from '../helpers/relayed-server';
import { startBlackholeProxy } from '../helpers/tcp-proxy';
import type { TestServer } from '../helpers/test-server';
import { waitFor } from '../helpers/wait';

let server: TestServer;
let relay: RelayProxy;
const track = useServerBehindRelay((s, r) => ([server, relay] = [s, r]));

const fastRetry = { backoff: { initialMs: 20, maxMs: 100 } };

test('a customer whose session is resumed by a second client reports taken-over and does not reconnect', async () => {
  const first = track(new CustomerChat({ address: relay.address, credentials: { token: 'joe' }, ...fastRetry }));
  const firstSees = new ChatRecorder(first);
  const session = await first.start();
  const agent = track(new AgentChat({ address: server.address, credentials: { token: 'agent-smith' } }));
  await agent.accept(session.sessionId);

  const second = track(new CustomerChat({ address: server.address, credentials: { token: 'joe' } }));
  const secondSees = new ChatRecorder(second);
  await second.resume(session.sessionId);
  const reason = await firstSees.closed();
  expect(reason.kind).toBe('taken-over');
  expect(reason.error?.code).toBe(status.ABORTED);

  // The chat goes on with the second client; the first stays closed and opens no connection.
  await agent.send('who is there?');
  await secondSees.waitForEntries(1);
  await second.send('the new device');
  expect(firstSees.entries).toEqual([]);
  expect(firstSees.stateKinds()).toEqual(['connecting', 'connected', 'closed']);
  expect(relay.connectionsAccepted()).toBe(1);
  await expect(first.send('hello?')).rejects.toMatchObject({ code: status.ABORTED });
});

test('an agent whose session is taken by the same agent id elsewhere reports taken-over', async () => {
  const customer = track(new CustomerChat({ address: server.address, credentials: { token: 'joe' } }));
  const session = await customer.start();
  const first = track(new AgentChat({ address: relay.address, credentials: { token: 'agent-smith' }, ...fastRetry }));
  const firstSees = new ChatRecorder(first);
  await first.accept(session.sessionId);
  const second = track(new AgentChat({ address: server.address, credentials: { token: 'agent-smith' } }));
  await second.accept(session.sessionId);

  expect((await firstSees.closed()).kind).toBe('taken-over');
  expect(firstSees.count('reconnecting')).toBe(0);
  expect(relay.connectionsAccepted()).toBe(1);
});

test('with the server gone for good the chat gives up after maxAttempts, fails pending sends and says why', async () => {
  const customer = track(
    new CustomerChat({ address: relay.address, credentials: { token: 'joe' }, ...fastRetry, giveUp: { maxAttempts: 3 } }),
  );
  const seen = new ChatRecorder(customer);
  await customer.start();

  // A message written into a connection that swallows it, then one sent while down.
  relay.dropFromClients(true);
  await customer.send('written, fate unknown');
  await relay.close(); // every connection reset, and nothing listens any more
  await seen.waitForState('reconnecting');
  const pending = customer.send('sent while down');

  const reason = await seen.closed();
  expect(reason.kind).toBe('gave-up');
  expect(reason.error?.code).toBe(status.UNAVAILABLE);
  expect(reason.unsent).toEqual(['sent while down']);
  expect(reason.unconfirmed).toEqual(['written, fate unknown']);
  await expect(pending).rejects.toMatchObject({ code: status.UNAVAILABLE });
  expect(seen.count('reconnecting')).toBe(3);
  expect(seen.states.filter((s) => s.kind === 'reconnecting').map((s) => s.kind === 'reconnecting' && s.attempt)).toEqual([1, 2, 3]);
  await expect(customer.send('after giving up')).rejects.toMatchObject({ message: expect.stringContaining('gave-up') });
});

test('the give-up point can be a time: no attempt starts after maxElapsedMs', async () => {
  const agentChat = track(
    new AgentChat({ address: relay.address, credentials: { token: 'agent-smith' }, backoff: { initialMs: 50, maxMs: 50 }, giveUp: { maxElapsedMs: 600 } }),
  );
  const customer = track(new CustomerChat({ address: server.address, credentials: { token: 'joe' } }));
  await customer.start();
  const seen = new ChatRecorder(agentChat);
  await agentChat.accept();

  await relay.close();
  const brokeAt = Date.now();
  const reason = await seen.closed();
  const elapsed = Date.now() - brokeAt;
  expect(reason.kind).toBe('gave-up');
  expect(elapsed).toBeGreaterThanOrEqual(500);
  expect(elapsed).toBeLessThan(10_000);
  expect(seen.count('reconnecting')).toBeGreaterThanOrEqual(3);
});

test('an app that starts while the server is unreachable sees reconnecting, and connects once it is there', async () => {
  relay.retarget('127.0.0.1:1'); // nothing listens there: every attempt is refused
  const customer = track(new CustomerChat({ address: relay.address, credentials: { token: 'joe' }, ...fastRetry }));
  const seen = new ChatRecorder(customer);
  const starting = customer.start();
  await seen.waitForState('reconnecting', 2);
  relay.retarget(server.address);
  const session = await starting;
  expect(seen.last()).toEqual({ kind: 'connected', sessionId: session.sessionId });
  await waitFor(() => customer.connectionState.kind === 'connected', 1000, 'connected');
});

test('a server that takes the connection but never answers: each attempt times out, and the chat keeps trying', async () => {
  const silent = await startBlackholeProxy(server.address);
  silent.blackhole();
  try {
    const customer = track(
      new CustomerChat({ address: silent.address, credentials: { token: 'joe' }, ...fastRetry, joinTimeoutMs: 300, giveUp: { maxAttempts: 2 } }),
    );
    const seen = new ChatRecorder(customer);
    const starting = customer.start();
    await seen.waitForState('reconnecting', 2);
    const causes = seen.states.flatMap((s) => (s.kind === 'reconnecting' ? [status[s.cause.code]] : []));
    expect(causes).toEqual(['DEADLINE_EXCEEDED', 'DEADLINE_EXCEEDED']);
    expect((await seen.closed()).kind).toBe('gave-up');
    await expect(starting).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
  } finally {
    await silent.close();
  }
});
