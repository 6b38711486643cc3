import { expect } from '@jest/globals';
// Faults outside any stream must not take the server down: a log collector that died (stdout closed:
// EPIPE), or a promise rejection nobody handled. An uncaught exception still exits (state may be
// corrupt), and logging it can never fail in a way that changes that.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { AgentStream, connect, CustomerStream, describeCustomerResponse, nextDescribed } from './helpers/chat-client';
import { collectLines, spawnServer, waitForListening, type ServerProcess } from './helpers/server-process';
import { makeTempDir, removeTempDir } from './helpers/test-server';
import { waitFor } from './helpers/wait';

const DIST = path.resolve(__dirname, '..', 'dist', 'src');

let dir: string;
let server: ServerProcess | undefined;

beforeEach(() => {
  dir = makeTempDir();
});

afterEach(async () => {
  if (server && server.exitCode() === undefined) server.child.kill('SIGKILL');
  await server?.exited;
  server = undefined;
  removeTempDir(dir);
});

const records = (lines: string[]) => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

test('a closed stdout (the log collector died) does not stop the server: the log goes on on stderr, chats go on, SIGTERM still exits 0', async () => {
  server = spawnServer(['--port', '0', '--db', path.join(dir, 'support.db')]);
  const port = await waitForListening(server);
  server.child.stdout!.destroy(); // the reader goes away: the server's next write to stdout fails with EPIPE

  const client = connect(`127.0.0.1:${port}`);
  const customer = new CustomerStream(client, 'joe');
  const session = await customer.init();
  const agent = new AgentStream(client, 'agent-a');
  await agent.accept(session.sessionId);
  customer.send('hello after the log pipe closed');
  expect(await nextDescribed(agent)).toBe('customer: hello after the log pipe closed');
  agent.send('still here');
  expect(describeCustomerResponse(await customer.next())).toBe('agent-a: still here');

  // The line that failed on stdout, and every later one, are on stderr, after one line saying why.
  const stderr = server.stderr;
  await waitFor(() => records(stderr).some((r) => r.msg === 'stream started' && r.user === 'agent-a'), 10_000, 'the log on stderr');
  const logged = records(stderr);
  expect(logged[0]).toMatchObject({ level: 'error', msg: 'cannot write the log to stdout any more; logging to stderr', error: expect.stringContaining('EPIPE') });
  expect(logged.filter((r) => r.msg === 'stream started').map((r) => r.user)).toEqual(['joe', 'agent-a']);

  customer.end();
  agent.end();
  client.close();
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
  expect(records(stderr).some((r) => r.msg === 'stopped')).toBe(true);
});

/** Runs `script` in a new node process after installing the server's fault handlers with its JSON logger. */
function runWithFaultHandlers(script: string, logger = `require(${JSON.stringify(path.join(DIST, 'log', 'logger.js'))}).createJsonLogger()`) {
  const setup = `require(${JSON.stringify(path.join(DIST, 'process-faults.js'))}).handleProcessFaults(${logger});`;
  const child = spawn(process.execPath, ['-e', `${setup}\n${script}`], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
  const stdout: string[] = [];
  const stderr: string[] = [];
  collectLines(child.stdout, stdout);
  collectLines(child.stderr, stderr);
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return { stdout, stderr, exited };
}

/** A logger whose every call throws: its failure must not become a second fault. */
const THROWING_LOGGER = `{ info() { throw new Error('log broke'); }, warn() { throw new Error('log broke'); }, error() { throw new Error('log broke'); } }`;

describe('the process fault handlers', () => {
  test('an unhandled rejection is logged as an error line with its stack, and the process goes on', async () => {
    const child = runWithFaultHandlers(`
      Promise.reject(new Error('a forgotten catch'));
      setImmediate(() => setImmediate(() => process.stdout.write('still running\\n')));`);
    expect(await child.exited).toBe(0);
    expect(child.stdout).toHaveLength(2);
    expect(JSON.parse(child.stdout[0]!)).toMatchObject({ level: 'error', msg: 'unhandled promise rejection', error: expect.stringMatching(/^Error: a forgotten catch\n\s+at /) });
    expect(child.stdout[1]).toBe('still running');
    expect(child.stderr).toEqual([]);
  });

  test('a rejection with a value that is not an Error, even one that cannot be turned into text, is logged too', async () => {
    const child = runWithFaultHandlers(`
      Promise.reject('just a string');
      Promise.reject(Object.create(null));
      setImmediate(() => setImmediate(() => process.stdout.write('still running\\n')));`);
    expect(await child.exited).toBe(0);
    expect(child.stdout.slice(0, 2).map((line) => (JSON.parse(line) as { error: unknown }).error)).toEqual(['just a string', '[object Object]']);
    expect(child.stdout[2]).toBe('still running');
  });

  test('an unhandled rejection whose logging fails still leaves the process running', async () => {
    const child = runWithFaultHandlers(
      `Promise.reject(new Error('a forgotten catch'));
      setImmediate(() => setImmediate(() => process.stdout.write('still running\\n')));`,
      THROWING_LOGGER,
    );
    expect(await child.exited).toBe(0);
    expect(child.stdout).toEqual(['still running']);
  });

  test('an uncaught exception is logged and the process exits with 1', async () => {
    const child = runWithFaultHandlers(`setImmediate(() => { throw new Error('state may be corrupt'); });`);
    expect(await child.exited).toBe(1);
    expect(child.stdout.map((line) => JSON.parse(line) as unknown)).toEqual([
      expect.objectContaining({ level: 'error', msg: 'uncaught exception', error: expect.stringMatching(/^Error: state may be corrupt\n\s+at /) }),
    ]);
  });

  test('an uncaught exception whose logging fails still exits with 1 (not 7: the handler itself must not throw)', async () => {
    const child = runWithFaultHandlers(`setImmediate(() => { throw new Error('state may be corrupt'); });`, THROWING_LOGGER);
    expect(await child.exited).toBe(1);
    expect(child.stderr).toEqual([]);
  });
});
