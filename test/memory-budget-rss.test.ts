import path from 'node:path';
import type { SupportClient } from '../gen/support';
import { AgentStream, CustomerStream } from './helpers/chat-client';
import { writeLargeSession } from './helpers/large-session';
import { agentTexts, errorRecords, ownConnection, RssSampler, startServerProcess } from './helpers/robustness-monitor';
import type { ServerProcess } from './helpers/server-process';
import { makeTempDir, removeTempDir } from './helpers/test-server';
import { stallJoiners, talkThroughAttack } from './helpers/join-attack';
import { waitFor } from './helpers/wait';

// SPEC §6 and the attack measured in issue 12 (20 agent streams joining a 2 MiB session and never
// reading took the server from 75 to 399 MiB): the built server's RSS now grows by less than
// --max-buffered-bytes plus a constant, with 20 and with 200 such streams, while a reader on the
// side gets every entry. The budget's own bound is checked exactly in memory-budget.test.ts.

const BUDGET_MB = 32;
/**
 * What the server may hold beside the budget: the encoded history cache (one 2 MiB session), the
 * attackers' connections, and above all replies dropped but not yet returned to the system (V8
 * collects once external memory has grown by about 64 MB, and malloc keeps some of what is freed).
 * Measured here, growth with the budget: 55-112 MB, and once 138 MB on a CI run sharing the machine
 * (garbage collected later); with the server as it was before these limits: 208-264 MB. The bound,
 * 176 MB, sits between the two. (With only the budget off, the per-stream limits still bound each
 * stream: 103-158 MB, which this test cannot tell from the budget on; the budget itself is checked
 * exactly in memory-budget.test.ts, through what the server counts.)
 */
const ALLOWANCE_MB = 144;
const ROUNDS = 6;
const HISTORY_ENTRIES = 250; // x ~8 KB: just under the default 2 MiB history cap

let dir: string;
let server: ServerProcess | undefined;
let clients: SupportClient[] = [];
let rss: RssSampler | undefined;

beforeEach(() => {
  dir = makeTempDir('support-memory-');
});

afterEach(async () => {
  rss?.stop();
  clients.forEach((c) => c.close());
  clients = [];
  if (server && server.exitCode() === undefined) server.child.kill('SIGKILL');
  await server?.exited;
  server = undefined;
  removeTempDir(dir);
});

function connection(address: string): SupportClient {
  const client = ownConnection(address);
  clients.push(client);
  return client;
}

test.each([20, 200])(
  '%i agents that join a 2 MiB session over and over and never read: RSS grows by less than --max-buffered-bytes plus a constant, and a reader on the side gets every entry',
  async (attackers) => {
    const dbFile = path.join(dir, 'support.db');
    const sessionId = await writeLargeSession(dbFile, 'joe', HISTORY_ENTRIES, (i) => `${i} ${'h'.repeat(8000)}`);
    const started = await startServerProcess(dbFile, ['--max-buffered-bytes', String(BUDGET_MB << 20), '--max-messages-per-second', '0']);
    server = started.server;
    const { address } = started;
    rss = new RssSampler(server.child.pid!, 20);

    const customer = new CustomerStream(connection(address), 'joe');
    await customer.init(sessionId);
    const reader = new AgentStream(connection(address), 'agent-reader');
    expect((await reader.accept(sessionId)).history).toHaveLength(HISTORY_ENTRIES);
    customer.send('warm-up');
    await waitFor(() => agentTexts(reader).includes('customer: warm-up'), 10_000, 'the warm-up message');
    const baselineMb = Math.max(rss.sample(), rss.sample());
    rss.peakMb = baselineMb;

    const stalled = stallJoiners(() => connection(address), sessionId, attackers, ROUNDS);
    const side = await talkThroughAttack(customer, reader, 150);
    // The attackers' requests were sent before the side messages; give the server a moment more
    // to have handled all of them (an observation window: the RSS peak is what is measured).
    const windowEnds = Date.now() + 4_000;
    await waitFor(() => Date.now() > windowEnds, 20_000, 'the observation window');
    const growthMb = rss.peakMb - baselineMb;
    if (process.env.ROBUSTNESS_REPORT) process.stderr.write(`[memory-budget] ${attackers} attackers: ${Math.round(baselineMb)} -> ${Math.round(rss.peakMb)} MB\n`);

    expect(side.got).toEqual(side.sent);
    expect({ growthUnderBound: growthMb < BUDGET_MB + ALLOWANCE_MB ? 'yes' : `${Math.round(growthMb)} MB`, serverUp: server.exitCode() === undefined }).toEqual({
      growthUnderBound: 'yes',
      serverUp: true,
    });
    expect(errorRecords(server).filter((r) => r.level === 'error')).toEqual([]);
    stalled.forEach((s) => s.cancel());
  },
  90_000,
);

