// The terminal apps, driven through pipes like a person at two terminals: one conversation with a
// server restart in the middle, a quit and a resume from the state file, and a hang-up.
import fs from 'node:fs';
import path from 'node:path';
import { connect, CustomerStream } from '../helpers/chat-client';
import { freePort } from '../helpers/free-port';
import { spawnServer, waitForListening, type ServerProcess } from '../helpers/server-process';
import { AGENT_APP, CUSTOMER_APP, spawnApp, type TerminalApp } from '../helpers/terminal-app';
import { makeTempDir, removeTempDir } from '../helpers/test-server';

jest.setTimeout(120_000);

let dir: string;
let server: ServerProcess | undefined;
let apps: TerminalApp[];

beforeEach(() => {
  dir = makeTempDir();
  apps = [];
});

afterEach(async () => {
  for (const app of apps) app.child.kill('SIGKILL');
  if (server) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  removeTempDir(dir);
});

async function startServer(port: number): Promise<void> {
  server = spawnServer(['--port', String(port), '--db', path.join(dir, 'support.db')]);
  await waitForListening(server);
}

function launch(script: string, args: string[]): TerminalApp {
  const app = spawnApp(script, [...args, '--retry-initial-ms', '50', '--retry-max-ms', '300']);
  apps.push(app);
  return app;
}

test('a customer and an agent chat in the terminal apps through a server restart, then the customer resumes and hangs up', async () => {
  const port = await freePort();
  await startServer(port);
  const stateFile = path.join(dir, 'state', 'sessions.json');
  const customerArgs = ['--user', 'joe', '--server', `127.0.0.1:${port}`, '--state-file', stateFile];

  const customer = launch(CUSTOMER_APP, customerArgs);
  const sessionId = (await customer.waitForLine(/^\* session (\S+): type to chat/))[1]!;
  customer.type('hello, my card is blocked');

  const agent = launch(AGENT_APP, ['--user', 'agent-smith', '--server', `127.0.0.1:${port}`]);
  await agent.waitForLine(/^\* agent-smith on /);
  agent.type('/accept');
  await agent.waitForLine(new RegExp(`^\\* accepted session ${sessionId} of customer joe$`));
  await agent.waitForLine(/^\[\d\d:\d\d:\d\d\] joe: hello, my card is blocked$/);
  agent.type('let me check');
  await customer.waitForLine(/^\[\d\d:\d\d:\d\d\] agent-smith: let me check$/);

  // The server stops (SIGTERM) and comes back on the same port and database.
  server!.child.kill('SIGTERM');
  expect(await server!.exited).toBe(0);
  await customer.waitForLine(/^\* connection lost .*; reconnecting…$/);
  await agent.waitForLine(/^\* connection lost .*; reconnecting…$/);
  customer.type('are you still there?');
  await startServer(port);
  await customer.waitForLine(/^\* connected again$/);
  await agent.waitForLine(/^\* connected again$/);
  await agent.waitForLine(/^\[\d\d:\d\d:\d\d\] joe: are you still there\?$/);
  agent.type('yes: unblocked it');
  await customer.waitForLine(/agent-smith: yes: unblocked it$/);

  // Ctrl-D: the customer app exits, leaving the session open; the next run resumes it from the state file.
  customer.endInput();
  expect(await customer.exited).toBe(0);
  expect(customer.entries()).toEqual(['agent-smith: let me check', 'agent-smith: yes: unblocked it']);
  expect(JSON.parse(fs.readFileSync(stateFile, 'utf8'))).toEqual({ sessions: { joe: sessionId } });

  const again = launch(CUSTOMER_APP, customerArgs);
  await again.waitForLine(new RegExp(`^\\* session ${sessionId}: type to chat`));
  await again.waitForLine(/agent-smith: yes: unblocked it$/);
  expect(again.entries()).toEqual([
    'joe (you): hello, my card is blocked',
    'agent-smith: let me check',
    'joe (you): are you still there?',
    'agent-smith: yes: unblocked it',
  ]);
  again.type('thanks, bye');
  await agent.waitForLine(/joe: thanks, bye$/);
  again.type('/hangup');
  await again.waitForLine(new RegExp(`^\\* you hung up; session ${sessionId} is over$`));
  expect(await again.exited).toBe(0);
  await agent.waitForLine(new RegExp(`^\\* session ${sessionId} has ended`));

  // Every entry reached the agent once, in order, across the restart.
  expect(agent.entries()).toEqual(['joe: hello, my card is blocked', 'joe: are you still there?', 'joe: thanks, bye']);
  agent.endInput();
  expect(await agent.exited).toBe(0);
  expect(JSON.parse(fs.readFileSync(stateFile, 'utf8'))).toEqual({ sessions: {} });
  expect([...customer.stderr, ...again.stderr, ...agent.stderr].join('')).toBe('');
});

test('the agent app reports an empty queue and text sent outside a session; a bad flag exits with 2', async () => {
  const port = await freePort();
  await startServer(port);
  const agent = launch(AGENT_APP, ['--user', 'agent-smith', '--server', `127.0.0.1:${port}`]);
  agent.type('/accept');
  await agent.waitForLine(/^\* no session is waiting for an agent$/);
  agent.type('hello?');
  await agent.waitForLine(/^\* not in a session: \/accept one first$/);
  agent.endInput();
  expect(await agent.exited).toBe(0);

  const bad = launch(CUSTOMER_APP, ['--user', 'joe', '--server', 'nowhere']);
  expect(await bad.exited).toBe(2);
  expect(bad.stderr).toEqual(['customer: invalid --server: expected HOST:PORT']);
});

test('text from the other party cannot forge an entry or drive the terminal: control characters are escaped, further lines indented', async () => {
  const port = await freePort();
  await startServer(port);
  // The customer is not bound to the app: it speaks gRPC itself and sends whatever text it likes.
  const client = connect(`127.0.0.1:${port}`);
  const customer = new CustomerStream(client, 'mallory');
  const session = await customer.init();

  const agent = launch(AGENT_APP, ['--user', 'agent-smith', '--server', `127.0.0.1:${port}`]);
  agent.type(`/accept ${session.sessionId}`);
  await agent.waitForLine(/^\* accepted session /);
  const from = agent.lines.length;
  customer.send('my card\n[12:00:01] agent-boss: read me your PIN\r\n* session ended\x1b]52;c;cGlu\x07\x1b[2J');
  customer.send('done');
  await agent.waitForLine(/mallory: done$/, from);

  expect(agent.lines.slice(from)).toEqual([
    expect.stringMatching(/^\[\d\d:\d\d:\d\d\] mallory: my card$/),
    '           [12:00:01] agent-boss: read me your PIN',
    '           * session ended\\x1b]52;c;cGlu\\x07\\x1b[2J',
    expect.stringMatching(/^\[\d\d:\d\d:\d\d\] mallory: done$/),
  ]);
  expect(agent.entries()).toEqual(['mallory: my card', 'mallory: done']);
  expect(agent.lines.join('\n')).not.toMatch(/[\x1b\x07]/);
  customer.end();
  client.close();
  agent.endInput();
  expect(await agent.exited).toBe(0);
});
