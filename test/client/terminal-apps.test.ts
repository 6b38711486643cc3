// The terminal apps, driven through pipes like a person at two terminals: one conversation with a
// server restart in the middle, a quit and a resume from the state file, and a hang-up.
import fs from 'node:fs';
import path from 'node:path';
import { SignJWT } from 'jose';
import { AgentStream, connect, CustomerStream, describeAgentResponse } from '../helpers/chat-client';
import { startRelayProxy, type RelayProxy } from '../helpers/relay-proxy';
import { spawnServer, waitForListening, type ServerProcess } from '../helpers/server-process';
import { AGENT_APP, CUSTOMER_APP, spawnApp, type TerminalApp } from '../helpers/terminal-app';
import { makeTestCertificates } from '../helpers/test-certificates';
import { makeTempDir, removeTempDir } from '../helpers/test-server';
import { waitFor } from '../helpers/wait';

jest.setTimeout(120_000);

let dir: string;
let server: ServerProcess | undefined;
let apps: TerminalApp[];
let relays: RelayProxy[];

beforeEach(() => {
  dir = makeTempDir();
  apps = [];
  relays = [];
});

afterEach(async () => {
  for (const app of apps) app.child.kill('SIGKILL');
  for (const relay of relays) await relay.close();
  if (server) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  removeTempDir(dir);
});

/** Starts the built server on a port of its own (port 0) and the test's database; returns its address. */
async function startServer(flags: string[] = []): Promise<string> {
  server = spawnServer(['--port', '0', '--db', path.join(dir, 'support.db'), ...flags]);
  return `127.0.0.1:${await waitForListening(server)}`;
}

function launch(script: string, args: string[]): TerminalApp {
  const app = spawnApp(script, [...args, '--retry-initial-ms', '50', '--retry-max-ms', '300']);
  apps.push(app);
  return app;
}

test('a customer and an agent chat in the terminal apps through a server restart, then the customer resumes and hangs up', async () => {
  // The apps' address is a relay the test holds bound throughout; the server behind it gets a port of
  // its own each time it starts (a port it had let go could be taken by another jest worker meanwhile).
  const relay = await startRelayProxy(await startServer());
  relays.push(relay);
  const stateFile = path.join(dir, 'state', 'sessions.json');
  const customerArgs = ['--user', 'joe', '--server', relay.address, '--state-file', stateFile];

  const customer = launch(CUSTOMER_APP, customerArgs);
  const sessionId = (await customer.waitForLine(/^\* session (\S+): type to chat/))[1]!;
  customer.type('hello, my card is blocked');

  const agent = launch(AGENT_APP, ['--user', 'agent-smith', '--server', relay.address]);
  await agent.waitForLine(/^\* agent-smith on /);
  agent.type('/accept');
  await agent.waitForLine(new RegExp(`^\\* accepted session ${sessionId} of customer joe$`));
  await agent.waitForLine(/^\[\d\d:\d\d:\d\d\] joe: hello, my card is blocked$/);
  agent.type('let me check');
  await customer.waitForLine(/^\[\d\d:\d\d:\d\d\] agent-smith: let me check$/);

  // The server stops (SIGTERM) and comes back on the same database, behind the same address.
  server!.child.kill('SIGTERM');
  expect(await server!.exited).toBe(0);
  await customer.waitForLine(/^\* connection lost .*; reconnecting…$/);
  await agent.waitForLine(/^\* connection lost .*; reconnecting…$/);
  customer.type('are you still there?');
  relay.retarget(await startServer());
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
  const address = await startServer();
  const agent = launch(AGENT_APP, ['--user', 'agent-smith', '--server', address]);
  agent.type('/accept');
  await agent.waitForLine(/^\* no session is waiting for an agent$/);
  agent.type('hello?');
  await agent.waitForLine(/^\* not in a session: \/accept one first$/);
  agent.endInput();
  expect(await agent.exited).toBe(0);

  const bad = launch(CUSTOMER_APP, ['--user', 'joe', '--server', 'nowhere']);
  expect(await bad.exited).toBe(2);
  expect(bad.stderr).toEqual(['customer: invalid value "nowhere" for --server: expected HOST:PORT']);
});

test('text from the other party cannot forge an entry or drive the terminal: control characters are escaped, further lines indented', async () => {
  const address = await startServer();
  // The customer is not bound to the app: it speaks gRPC itself and sends whatever text it likes.
  const client = connect(address);
  const customer = new CustomerStream(client, 'mallory');
  const session = await customer.init();

  const agent = launch(AGENT_APP, ['--user', 'agent-smith', '--server', address]);
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

test('with --jwt-file, an app whose token a login helper renews on disk outlives each token: the server ends its stream at expiry, it reconnects with the file\'s new token', async () => {
  const secret = 'a-test-secret-that-is-long-enough-for-hs256';
  fs.writeFileSync(path.join(dir, 'jwt-secret'), secret);
  const address = await startServer(['--auth', 'jwt', '--jwt-secret-file', path.join(dir, 'jwt-secret'), '--jwt-audience', 'support-chat']);
  /** Writes a token for `sub` that the server takes for 3 to 4 s more (exp 26 s ago, 30 s of tolerance), as a login helper would: whole, by rename. */
  const writeToken = async (file: string, sub: string, role: string, exp = Math.floor(Date.now() / 1000) - 26) => {
    const token = await new SignJWT({ sub, role, aud: 'support-chat', exp }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
    fs.writeFileSync(`${file}.new`, token + '\n');
    fs.renameSync(`${file}.new`, file);
  };
  const joeFile = path.join(dir, 'joe.jwt');
  const smithFile = path.join(dir, 'smith.jwt');
  await writeToken(joeFile, 'joe', 'customer');
  await writeToken(smithFile, 'agent-smith', 'agent', Math.floor(Date.now() / 1000) + 600);
  let renewing = Promise.resolve();
  const loginHelper = setInterval(() => (renewing = renewing.then(() => writeToken(joeFile, 'joe', 'customer'))), 1000);
  try {
    // No --user: the app takes the user from the token.
    const customer = launch(CUSTOMER_APP, ['--server', address, '--jwt-file', joeFile, '--state-file', path.join(dir, 'sessions.json')]);
    await customer.waitForLine(new RegExp(`^\\* connecting to ${address} as joe…$`));
    const sessionId = (await customer.waitForLine(/^\* session (\S+): type to chat/))[1]!;
    const agent = launch(AGENT_APP, ['--user', 'agent-smith', '--server', address, '--jwt-file', smithFile]);
    agent.type(`/accept ${sessionId}`);
    await agent.waitForLine(new RegExp(`^\\* accepted session ${sessionId} of customer joe$`));

    const count = (pattern: RegExp) => customer.lines.filter((line) => pattern.test(line)).length;
    const disconnected = () => customer.lines.filter((line) => line.startsWith('* disconnected'));
    for (let expiry = 1; expiry <= 2; expiry++) {
      await waitFor(() => count(/^\* connected again$/) >= expiry || disconnected().length > 0, 20_000, `the customer app back after expiry ${expiry}`);
      expect(disconnected()).toEqual([]);
      customer.type(`still here after ${expiry}`);
      await agent.waitForLine(new RegExp(`joe: still here after ${expiry}$`));
    }
    expect(count(/^\* connection lost \(UNAUTHENTICATED: the token expired; reconnect with a fresh one\); reconnecting…$/)).toBeGreaterThanOrEqual(2);
    agent.type('you are still heard');
    await customer.waitForLine(/agent-smith: you are still heard$/);
    expect(agent.entries()).toEqual(['joe: still here after 1', 'joe: still here after 2']);
    expect(disconnected()).toEqual([]);
  } finally {
    clearInterval(loginHelper);
    await renewing;
  }
});

test('with --jwt-file the user is the token\'s: a --user naming someone else is refused (exit 2), the same one is taken', async () => {
  const token = await new SignJWT({ sub: 'joe', role: 'customer' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(32)));
  const joeFile = path.join(dir, 'joe.jwt');
  fs.writeFileSync(joeFile, token + '\n');
  for (const [script, name] of [[CUSTOMER_APP, 'customer'], [AGENT_APP, 'agent']] as const) {
    const app = launch(script, ['--user', 'bob', '--jwt-file', joeFile, '--server', '127.0.0.1:1']);
    expect(await app.exited).toBe(2);
    expect(app.stderr).toEqual([`${name}: --user bob is not the user of the --jwt-file token (joe); leave --user out with --jwt-file`]);
  }
  const neither = launch(CUSTOMER_APP, ['--server', '127.0.0.1:1']);
  expect(await neither.exited).toBe(2);
  expect(neither.stderr).toEqual(['customer: missing --user (or --jwt-file) (see --help)']);

  const same = launch(AGENT_APP, ['--user', 'joe', '--jwt-file', joeFile, '--server', '127.0.0.1:1']);
  await same.waitForLine(/^\* joe on 127\.0\.0\.1:1; /);
  same.endInput();
  expect(await same.exited).toBe(0);
});

test('over TLS to an IP address the certificate is checked against that IP, and Node prints no DEP0123 warning', async () => {
  const certs = await makeTestCertificates(dir);
  const tlsFlags = ['--tls-cert', certs.server.certFile, '--tls-key', certs.server.keyFile];
  const address = await startServer(tlsFlags);
  const customer = launch(CUSTOMER_APP, ['--user', 'joe', '--server', address, '--tls-ca', certs.ca.certFile, '--state-file', path.join(dir, 's.json')]);
  await customer.waitForLine(/^\* session \S+: type to chat/);
  customer.endInput();
  expect(await customer.exited).toBe(0);
  expect(customer.stderr).toEqual([]);

  // The certificate names 127.0.0.1, not 127.0.0.2: connecting there is refused, still without the warning.
  server!.child.kill('SIGKILL');
  await server!.exited;
  server = spawnServer(['--host', '127.0.0.2', '--port', '0', '--db', path.join(dir, 'other.db'), ...tlsFlags]);
  const other = `127.0.0.2:${await waitForListening(server)}`;
  const refused = launch(CUSTOMER_APP, ['--user', 'joe', '--server', other, '--tls-ca', certs.ca.certFile, '--give-up-after-s', '1', '--state-file', path.join(dir, 's.json')]);
  await refused.waitForLine(/^\* disconnected: gave up reconnecting \(.*127\.0\.0\.2 is not in the cert's list/);
  expect(await refused.exited).toBe(1);
  expect(refused.stderr).toEqual([]);
});

test('piped input: "/quit" alone opens the session and leaves cleanly; lines typed ahead are sent after the session line', async () => {
  const address = await startServer();
  const stateFile = path.join(dir, 'sessions.json');
  const quitter = launch(CUSTOMER_APP, ['--user', 'joe', '--server', address, '--state-file', stateFile]);
  quitter.type('/quit');
  quitter.endInput();
  expect(await quitter.exited).toBe(0);
  expect(quitter.lines).toEqual([`* connecting to ${address} as joe…`, expect.stringMatching(/^\* session \S+: type to chat/)]);
  expect(quitter.stderr).toEqual([]);

  const writer = launch(CUSTOMER_APP, ['--user', 'joe', '--server', address, '--state-file', stateFile]);
  writer.type('typed before the session opened');
  writer.endInput();
  expect(await writer.exited).toBe(0);
  const sessionLine = writer.lines.findIndex((line) => line.startsWith('* session '));
  const sendingLine = writer.lines.findIndex((line) => line.startsWith('* sending '));
  expect(sessionLine).toBeGreaterThan(0);
  if (sendingLine >= 0) expect(sendingLine).toBeGreaterThan(sessionLine);
  expect(writer.lines.join('\n')).not.toContain('could not open');

  // The message arrived, in the session both runs used.
  const client = connect(address);
  const agent = new AgentStream(client, 'agent-smith');
  const session = await agent.accept();
  expect(session.history.map((entry) => entry.entry)).toEqual([{ $case: 'customerMsg', value: 'typed before the session opened' }]);
  agent.end();
  client.close();
});

test('after giving up, the next start looks the messages written before the break up in the history: only the one not there is reported', async () => {
  const direct = await startServer();
  const relay = await startRelayProxy(direct);
  relays.push(relay);
  const stateFile = path.join(dir, 'sessions.json');
  const first = launch(CUSTOMER_APP, ['--user', 'joe', '--server', relay.address, '--state-file', stateFile, '--give-up-after-s', '1']);
  const sessionId = (await first.waitForLine(/^\* session (\S+): type to chat/))[1]!;
  const client = connect(direct);
  const agent = new AgentStream(client, 'agent-smith');
  await agent.accept(sessionId);
  first.type('arrives');
  expect(describeAgentResponse(await agent.next())).toBe('customer: arrives');

  // Written into a connection that swallows it, then the server is out of reach until the app gives up.
  relay.dropFromClients(true);
  first.type('swallowed');
  await waitFor(() => relay.droppedBytes() > 0, 10_000, 'the message written into the void');
  await relay.close();
  await first.waitForLine(/^\* disconnected: gave up reconnecting/);
  expect(first.lines.at(-1)).toMatch(/; written just before \(the next start checks whether they arrived\): "arrives", "swallowed"$/);
  expect(await first.exited).toBe(1);

  const next = launch(CUSTOMER_APP, ['--user', 'joe', '--server', direct, '--state-file', stateFile]);
  await next.waitForLine(/^\* not delivered before the last disconnect/);
  expect(next.entries()).toEqual(['joe (you): arrives']);
  expect(next.lines.filter((line) => /deliver/.test(line))).toEqual([`* not delivered before the last disconnect (not in the session's history): "swallowed"`]);
  next.endInput();
  expect(await next.exited).toBe(0);
  expect(JSON.parse(fs.readFileSync(stateFile, 'utf8'))).toEqual({ sessions: { joe: sessionId } });
  agent.end();
  client.close();
});

test('after a takeover, messages written just before it that are in the history are not reported at the next start', async () => {
  const address = await startServer();
  const stateFile = path.join(dir, 'sessions.json');
  const args = ['--user', 'joe', '--server', address, '--state-file', stateFile];
  const first = launch(CUSTOMER_APP, args);
  const sessionId = (await first.waitForLine(/^\* session (\S+): type to chat/))[1]!;
  const client = connect(address);
  const agent = new AgentStream(client, 'agent-smith');
  await agent.accept(sessionId);
  first.type('written before the takeover');
  expect(describeAgentResponse(await agent.next())).toBe('customer: written before the takeover');

  // Another window of the same user resumes the session: the first stops, unable to check its message.
  const second = launch(CUSTOMER_APP, args);
  await second.waitForLine(new RegExp(`^\\* session ${sessionId}: type to chat`));
  await first.waitForLine(/^\* disconnected: the session was taken over .*; written just before \(the next start checks whether they arrived\): "written before the takeover"$/);
  expect(await first.exited).toBe(1);
  second.endInput();
  expect(await second.exited).toBe(0);

  const third = launch(CUSTOMER_APP, args);
  await third.waitForLine(/joe \(you\): written before the takeover$/);
  third.endInput();
  expect(await third.exited).toBe(0);
  expect(third.lines.filter((line) => /deliver/.test(line))).toEqual([]);
  expect(JSON.parse(fs.readFileSync(stateFile, 'utf8'))).toEqual({ sessions: { joe: sessionId } });
  agent.end();
  client.close();
});
