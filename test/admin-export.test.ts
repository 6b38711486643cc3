import * as grpc from '@grpc/grpc-js';
import { ExportFormat, type GetSessionResponse, type SupportAdminServiceClient } from '../gen/support/admin/v1/admin';
import type { SupportClient } from '../gen/support';
import { connectAdmin, demoToken, unary } from './helpers/admin-client';
import { AgentStream, connect, CustomerStream } from './helpers/chat-client';
import { exportText, parseJsonLines, type ExportedEntry } from './helpers/export-client';
import { startTestServer, type TestServer } from './helpers/test-server';
import { waitFor } from './helpers/wait';

// ExportSessions: one session, or the sessions of a time range, as JSON Lines or as a text
// transcript, compared entry by entry with what the parties sent.

const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let server: TestServer;
let admin: SupportAdminServiceClient;
let chat: SupportClient;
/** What was sent in each session, in order: [role, author id, text]. */
const sent = new Map<string, [role: 'customer' | 'agent', id: string, text: string][]>();
const ids: string[] = [];

/** A session of `customer` with agent `agent`: the texts alternate between them; ended if `hangUp`. */
async function chatSession(customer: string, agent: string, texts: string[], hangUp: boolean): Promise<string> {
  const c = new CustomerStream(chat, customer);
  const { sessionId } = await c.init();
  const a = new AgentStream(chat, agent);
  await a.accept(sessionId);
  const record: [('customer' | 'agent'), string, string][] = [];
  for (const [i, text] of texts.entries()) {
    if (i % 2 === 0) {
      c.send(text);
      record.push(['customer', customer, text]);
      await a.next(); // delivered, so committed: the order of the record is the order of the history
    } else {
      a.send(text);
      record.push(['agent', agent, text]);
      await c.next();
    }
  }
  if (hangUp) {
    c.hangUp();
    await a.next(); // session_ended
  }
  c.end();
  a.end();
  sent.set(sessionId, record);
  // The next session is created at a later millisecond, so that a range can start between them.
  const created = (await getSession(sessionId)).session!.createTime!.getTime();
  await waitFor(() => Date.now() > created, 1000, 'the next millisecond');
  return sessionId;
}

function getSession(sessionId: string): Promise<GetSessionResponse> {
  return unary(admin, 'getSession', { sessionId }, demoToken('admin-ops'));
}

/** The history's dates as the admin service reports them (GetSession), to compare the export's with. */
async function datesOf(sessionId: string): Promise<string[]> {
  const { history } = await getSession(sessionId);
  return history.map((entry) => entry.date!.toISOString());
}

async function expectedEntries(sessionId: string): Promise<ExportedEntry[]> {
  const dates = await datesOf(sessionId);
  return sent.get(sessionId)!.map(([role, id, text], i) => ({ session_id: sessionId, seq: i + 1, date: dates[i]!, author_role: role, author_id: id, text }));
}

async function createTime(sessionId: string): Promise<Date> {
  return (await getSession(sessionId)).session!.createTime!;
}

beforeAll(async () => {
  server = await startTestServer(['--max-messages-per-second', '0', '--max-joins-per-minute', '0']);
  admin = connectAdmin(server.address);
  chat = connect(server.address);
  ids.push(await chatSession('joe', 'agent-ann', ['hello', 'hi, how can I help?', 'two lines:\nsecond line', 'unicode ✓ — "quoted" \\ back\tslash \x1b[2J'], true));
  ids.push(await chatSession('sue', 'agent-bob', ['first of sue', 'answer'], false));
  ids.push(await chatSession('joe', 'agent-bob', ['joe again'], true));
});
afterAll(async () => {
  admin.close();
  chat.close();
  await server.stop();
});

test('one session as JSON Lines: every entry, in order, with its id, seq, RFC 3339 date in milliseconds, author role and id, and text exactly as sent', async () => {
  const { text, status } = await exportText(admin, { $case: 'sessionId', value: ids[0]! });
  expect(status.code).toBe(grpc.status.OK);
  const entries = parseJsonLines(text);
  expect(entries).toEqual(await expectedEntries(ids[0]!));
  for (const entry of entries) expect(entry.date).toMatch(RFC3339_MS);
});

test('one session as a text transcript: a heading, then one line per entry (further lines of a message indented, control characters shown as escapes)', async () => {
  const { text, status } = await exportText(admin, { $case: 'sessionId', value: ids[0]! }, ExportFormat.EXPORT_FORMAT_PLAIN_TEXT);
  expect(status.code).toBe(grpc.status.OK);
  const dates = await datesOf(ids[0]!);
  const { session } = await getSession(ids[0]!);
  expect(text.split('\n')).toEqual([
    '',
    `== Session ${ids[0]}, customer joe, created ${session!.createTime!.toISOString()}, ended ${session!.endTime!.toISOString()}, 4 entries`,
    `${dates[0]}  customer joe: hello`,
    `${dates[1]}  agent agent-ann: hi, how can I help?`,
    `${dates[2]}  customer joe: two lines:`,
    '    second line',
    `${dates[3]}  agent agent-ann: unicode ✓ — "quoted" \\ back\\tslash \\x1b[2J`,
    '',
  ]);
});

test('a range of creation: the sessions created in it, oldest first, each entry by entry; an open end, and a range with nothing in it', async () => {
  const from = await createTime(ids[1]!);
  const { text, status } = await exportText(admin, { $case: 'created', value: { start: from, end: undefined } });
  expect(status.code).toBe(grpc.status.OK);
  expect(parseJsonLines(text)).toEqual([...(await expectedEntries(ids[1]!)), ...(await expectedEntries(ids[2]!))]);
  const everything = parseJsonLines((await exportText(admin, { $case: 'created', value: { start: undefined, end: undefined } })).text);
  expect(everything).toEqual([...(await expectedEntries(ids[0]!)), ...(await expectedEntries(ids[1]!)), ...(await expectedEntries(ids[2]!))]);
  const before = await exportText(admin, { $case: 'created', value: { start: undefined, end: await createTime(ids[0]!) } });
  expect(before).toMatchObject({ text: '', chunks: [], status: { code: grpc.status.OK } });
});

test('a range of ends: only the ended sessions, as a text transcript with a heading each', async () => {
  const { text } = await exportText(admin, { $case: 'ended', value: { start: new Date(0), end: new Date(Date.now() + 60_000) } }, ExportFormat.EXPORT_FORMAT_PLAIN_TEXT);
  const headings = text.split('\n').filter((line) => line.startsWith('== Session '));
  expect(headings.map((h) => h.split(' ')[2]!.replace(',', ''))).toEqual([ids[0], ids[2]]);
  expect(text).toContain('customer joe: joe again');
  expect(text).not.toContain('first of sue');
});

test('refusals: no such session is NOT_FOUND; no selection, a backwards range, an unknown format are INVALID_ARGUMENT', async () => {
  expect((await exportText(admin, { $case: 'sessionId', value: 'no-such-session' })).status).toMatchObject({ code: grpc.status.NOT_FOUND, details: 'no such session' });
  expect((await exportText(admin, undefined)).status).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: 'selection is missing: set session_id, created or ended' });
  expect((await exportText(admin, { $case: 'ended', value: { start: new Date(2000), end: new Date(1000) } })).status).toMatchObject({
    code: grpc.status.INVALID_ARGUMENT,
    details: 'ended.start is not before ended.end',
  });
  expect((await exportText(admin, { $case: 'sessionId', value: ids[0]! }, 7 as ExportFormat)).status.code).toBe(grpc.status.INVALID_ARGUMENT);
});
