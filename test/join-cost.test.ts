import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ChatAgentRequest, ChatAgentResponse } from '../gen/support';
import { tokenFor } from './helpers/chat-client';
import { connectRaw, type RawBytesClient } from './helpers/raw-client';
import { writeLargeSession } from './helpers/large-session';
import { makeTempDir, removeTempDir, startTestServer, type TestServer } from './helpers/test-server';

// SPEC §6: no request blocks other clients for more than a few milliseconds. Joining a session
// (accept, init{resume}) sends its whole history; a large one is read and encoded in slices, so
// agents that join a huge session in a loop slow down only themselves.

const ENTRIES = 100_000; // one-character messages: ~1.9 MB encoded, under the 2 MiB history cap
const JOINERS = 4;

let dir: string;
let server: TestServer;
const clients: RawBytesClient[] = [];

beforeAll(async () => {
  dir = makeTempDir('support-join-cost-');
  const dbFile = path.join(dir, 'support.db');
  const sessionId = await writeLargeSession(dbFile, 'joe', ENTRIES, (i) => String.fromCharCode(97 + (i % 26)));
  server = await startTestServer(['--max-history-entries', String(ENTRIES), '--max-joins-per-minute', '0', '--max-messages-per-second', '0'], dir);
  session = sessionId;
}, 60_000);
let session: string;

afterAll(async () => {
  clients.forEach((c) => c.close());
  await server.stop();
  removeTempDir(dir);
});

const accept = (sessionId: string) => Buffer.from(ChatAgentRequest.encode({ req: { $case: 'accept', value: { sessionId } } }).finish());
const leave = Buffer.from(ChatAgentRequest.encode({ req: { $case: 'leaveSession', value: 0 } }).finish());

/**
 * An agent stream that joins `sessionId` and leaves again, over and over, until `deadline`; it
 * keeps only the last reply (this process also runs the server, so the test client stays light).
 */
async function joinRepeatedly(client: RawBytesClient, agent: string, sessionId: string, deadline: number): Promise<{ joins: number; lastReply: Buffer }> {
  const call = client.ChatAgent(tokenFor(agent));
  let joins = 0;
  let lastReply: Buffer = Buffer.alloc(0);
  try {
    while (Date.now() < deadline) {
      const reply = new Promise<Buffer>((resolve, reject) => {
        call.once('data', resolve);
        call.once('error', reject);
      });
      call.write(accept(sessionId));
      lastReply = await reply;
      call.removeAllListeners('error');
      call.write(leave);
      joins++;
    }
  } finally {
    call.on('error', () => {});
    call.cancel();
  }
  return { joins, lastReply };
}

test('agents joining a 100,000-entry session in a loop never block the event loop for long; each gets the whole history', async () => {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  const deadline = Date.now() + 4_000;
  delay.enable();
  const results = await Promise.all(
    Array.from({ length: JOINERS }, (_, i) => {
      const client = connectRaw(server.address);
      clients.push(client);
      return joinRepeatedly(client, `agent-joiner-${i}`, session, deadline);
    }),
  );
  delay.disable();
  const joins = results.map((r) => r.joins);
  const p99Ms = delay.percentile(99) / 1e6;
  const maxMs = delay.max / 1e6;
  // Measured here: p99 ~20-30 ms and max ~25-50 ms at ~40 joins a second of ~1.9 MB each (mostly
  // garbage collection, this process also being the clients). Reading and encoding the whole
  // history in one go instead blocks ~500 ms per join (p99 ~520 ms). The bounds sit well between
  // the two, since a 2-core machine busy with other work alone pushed p99 past 50 ms.
  expect({ p99Under200ms: p99Ms < 200, maxUnder450ms: maxMs < 450, joins: joins.every((n) => n >= 1) }).toEqual({
    p99Under200ms: true,
    maxUnder450ms: true,
    joins: true,
  });
  const reply = ChatAgentResponse.decode(results[0]!.lastReply).resp;
  const history = reply?.$case === 'acceptedSession' ? reply.value.history : [];
  expect(history).toHaveLength(ENTRIES);
  expect(history.map((e) => (e.entry?.$case === 'customerMsg' ? e.entry.value : e.entry?.value.msg)).join('')).toBe(
    Array.from({ length: ENTRIES }, (_, i) => String.fromCharCode(97 + (i % 26))).join(''),
  );
}, 60_000);
