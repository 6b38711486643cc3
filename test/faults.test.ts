import { status } from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import type { SupportClient } from '../gen/support';
import { AgentStream, CustomerStream, describeAgentResponse } from './helpers/chat-client';
import { useServerPerTest, type TestServer } from './helpers/test-server';
import { waitFor } from './helpers/wait';

let server: TestServer;
let client: SupportClient;
useServerPerTest((started, connected) => {
  server = started;
  client = connected;
});

/** Makes the database fail every insert of an entry whose text is `poison`, as a broken disk or bug would. */
function poisonEntries(dbFile: string, poison: string): void {
  const db = new Database(dbFile);
  db.exec(`CREATE TRIGGER poison BEFORE INSERT ON entries WHEN NEW.text = '${poison}'
           BEGIN SELECT RAISE(ABORT, 'injected fault'); END`);
  db.close();
}

test('an unexpected failure inside one stream ends it with INTERNAL, logged with a stack, without internals, leaving others alone', async () => {
  const victim = new CustomerStream(client, 'joe');
  const victimSession = await victim.init();
  const bystander = new CustomerStream(client, 'ann');
  const bystanderSession = await bystander.init();
  const agent = new AgentStream(client, 'agent-a');
  await agent.accept(bystanderSession.sessionId);
  poisonEntries(server.dbFile, 'boom');

  victim.send('boom');
  const ended = await victim.ended();
  expect(ended.code).toBe(status.INTERNAL);
  expect(ended.details).toBe('internal error');

  bystander.send('still fine');
  expect(describeAgentResponse(await agent.next())).toBe('customer: still fine');
  await waitFor(() => server.logs.some((l) => l.msg === 'stream failed'), 5000, 'the failure log line');
  const failure = server.logs.find((l) => l.msg === 'stream failed')!;
  expect(failure).toMatchObject({ level: 'error', user: 'joe', session: victimSession.sessionId });
  expect(String(failure.error)).toContain('injected fault');
  expect(String(failure.error)).toContain('SqliteError: injected fault'); // the error's stack (its first line at least)
  expect(JSON.stringify(server.logs)).not.toContain('still fine');

  const resumed = new CustomerStream(client, 'joe');
  expect((await resumed.init(victimSession.sessionId)).history).toEqual([]); // nothing half-written
});
