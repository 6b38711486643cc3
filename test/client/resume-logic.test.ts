// The pure parts of automatic resume: joining a resumed history to what the app has seen, the
// backoff between attempts, and which ends of a call are retried.
import { status } from '@grpc/grpc-js';
import type { ChatEntry as ProtoEntry } from '../../gen/support';
import { Backoff } from '../../src/client/backoff';
import { verdictOf, type CallFacts } from '../../src/client/call-verdict';
import { reconcile, type HistoryCursor } from '../../src/client/history-sync';

const customer = (text: string): ProtoEntry => ({ date: new Date(0), entry: { $case: 'customerMsg', value: text } });
const agent = (name: string, text: string): ProtoEntry => ({ date: new Date(0), entry: { $case: 'agentMsg', value: { agentName: name, msg: text } } });
const isSmith = (e: ProtoEntry) => e.entry?.$case === 'agentMsg' && e.entry.value.agentName === 'agent-smith';
const text = (e: ProtoEntry) => (e.entry?.$case === 'agentMsg' ? e.entry.value.msg : (e.entry?.value ?? ''));
const lines = (entries: ProtoEntry[]) => entries.map((e) => (e.entry?.$case === 'agentMsg' ? `${e.entry.value.agentName}: ${text(e)}` : `customer: ${text(e)}`));

function resume(history: ProtoEntry[], cursor: HistoryCursor, written: string[]) {
  const { unseen, committed } = reconcile(history, cursor, written, isSmith, text);
  return { unseen: lines(unseen), committed };
}

test('entries seen live and own committed messages are skipped; the rest after the base is delivered in order', () => {
  const history = [customer('old'), agent('agent-smith', 'old reply'), customer('seen live'), agent('agent-smith', 'x'), agent('agent-jones', 'missed'), customer('missed too'), agent('agent-smith', 'y')];
  expect(resume(history, { base: 2, othersSeen: 1 }, ['x', 'y'])).toEqual({ unseen: ['agent-jones: missed', 'customer: missed too'], committed: 2 });
});

test('only the messages the server committed before the break count as delivered; the rest is sent again', () => {
  const history = [customer('hi'), agent('agent-smith', 'x'), customer('more')];
  expect(resume(history, { base: 1, othersSeen: 0 }, ['x', 'y', 'z'])).toEqual({ unseen: ['customer: more'], committed: 1 });
  expect(resume(history, { base: 2, othersSeen: 0 }, ['y'])).toEqual({ unseen: ['customer: more'], committed: 0 });
});

test('repeated texts: one committed copy of two identical messages confirms one, not both', () => {
  const history = [agent('agent-smith', 'ok')];
  expect(resume(history, { base: 0, othersSeen: 0 }, ['ok', 'ok'])).toEqual({ unseen: [], committed: 1 });
});

test('an own entry that this client did not write (the same user elsewhere) is delivered, not taken for a pending message', () => {
  const history = [customer('q'), agent('agent-smith', 'from my phone')];
  expect(resume(history, { base: 0, othersSeen: 1 }, ['from this laptop'])).toEqual({ unseen: ['agent-smith: from my phone'], committed: 0 });
});

test('an own entry before the base never confirms a new message with the same text', () => {
  const history = [agent('agent-smith', 'thanks')];
  expect(resume(history, { base: 1, othersSeen: 0 }, ['thanks'])).toEqual({ unseen: [], committed: 0 });
});

test('backoff grows exponentially up to its cap, with jitter within bounds, and gives up after maxAttempts', () => {
  const steady = new Backoff({ initialMs: 100, maxMs: 1000, multiplier: 2 }, { maxAttempts: 6 }, () => 0.5);
  expect([1, 2, 3, 4, 5, 6].map(() => steady.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
  expect(steady.next()).toBeUndefined();

  const low = new Backoff({ initialMs: 100, jitter: 0.2 }, {}, () => 0);
  const high = new Backoff({ initialMs: 100, jitter: 0.2 }, {}, () => 0.999999);
  expect(low.next()).toBe(80);
  expect(high.next()).toBe(120);
});

test('backoff gives up when the next attempt would start after maxElapsedMs', () => {
  const backoff = new Backoff({ initialMs: 400, maxMs: 400, jitter: 0 }, { maxElapsedMs: 1000 });
  expect(backoff.next()).toBe(400);
  expect(backoff.next()).toBe(400);
  const expired = new Backoff({ initialMs: 400, jitter: 0 }, { maxElapsedMs: 300 });
  expect(expired.next()).toBeUndefined();
});

describe('UNAUTHENTICATED (the server ends a stream when its token expires)', () => {
  const facts = (changes: Partial<CallFacts>): CallFacts => ({
    code: status.UNAUTHENTICATED,
    joined: true,
    firstJoin: false,
    timedOut: false,
    sessionEnded: false,
    leaving: false,
    halfClosed: false,
    leaveNeedsServer: true,
    writtenMessages: 2,
    renewableToken: true,
    ...changes,
  });

  test('on a joined call, with a token function: reconnect with a fresh token and resume', () => {
    expect(verdictOf(facts({}))).toEqual({ kind: 'retry', rejectHead: false });
  });

  test('before the call joined (the fresh token refused), or with a token that cannot be renewed: final', () => {
    expect(verdictOf(facts({ joined: false }))).toEqual({ kind: 'fatal', reason: 'refused' });
    expect(verdictOf(facts({ joined: false, firstJoin: true }))).toEqual({ kind: 'fatal', reason: 'refused' });
    expect(verdictOf(facts({ renewableToken: false }))).toEqual({ kind: 'fatal', reason: 'refused' });
  });
});
