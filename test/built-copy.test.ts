// The README's list of what a copy of the built server needs, taken at its word: exactly those
// paths, copied into an empty folder, make a server that starts and chats.
import fs from 'node:fs';
import path from 'node:path';
import { AgentStream, connect, CustomerStream, describeAgentResponse } from './helpers/chat-client';
import { spawnServer, waitForListening, type ServerProcess } from './helpers/server-process';
import { makeTempDir, removeTempDir } from './helpers/test-server';

const ROOT = path.resolve(__dirname, '..');
const LIST_LINE = 'A copy of the built server needs these, side by side in one folder:';

let dir: string;
let server: ServerProcess | undefined;

beforeEach(() => (dir = makeTempDir()));

afterEach(async () => {
  if (server?.exitCode() === undefined) server?.child.kill('SIGKILL');
  await server?.exited;
  removeTempDir(dir);
});

/** The backquoted paths of the README's line that lists what a copy needs. */
function listedPaths(): string[] {
  const line = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('\n').find((l) => l.startsWith(LIST_LINE));
  if (!line) throw new Error(`README.md has no line starting "${LIST_LINE}"`);
  return [...line.slice(LIST_LINE.length).matchAll(/`([^`]+)`/g)].map((match) => match[1]!.replace(/\/$/, ''));
}

/** Copies `listed` (a path, or `folder/*.ext`) from the project into `into`. */
function copyListed(listed: string, into: string): void {
  if (listed === 'node_modules') {
    // 250 MB of dependencies, the same bytes wherever they are: linked, not copied. The server's own
    // files (dist/, migrations/, gen/) are real copies, so the server finds its files from the copy.
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(into, 'node_modules'), 'dir');
    return;
  }
  const glob = /^(.*)\/\*(\.[^/]+)$/.exec(listed);
  if (!glob) return fs.cpSync(path.join(ROOT, listed), path.join(into, listed), { recursive: true });
  const [, folder, extension] = glob as unknown as [string, string, string];
  fs.mkdirSync(path.join(into, folder), { recursive: true });
  for (const file of fs.readdirSync(path.join(ROOT, folder)).filter((name) => name.endsWith(extension))) {
    fs.copyFileSync(path.join(ROOT, folder, file), path.join(into, folder, file));
  }
}

test("a copy of exactly what the README lists starts (migrations and reflection's descriptor sets found in the copy) and chats", async () => {
  const listed = listedPaths();
  expect(listed).toEqual(expect.arrayContaining(['dist', 'migrations', 'node_modules']));
  const app = path.join(dir, 'app');
  fs.mkdirSync(app);
  for (const item of listed) copyListed(item, app);

  server = spawnServer(['--port', '0', '--db', path.join(dir, 'data', 'support.db')], { cwd: dir, entry: path.join(app, 'dist', 'src', 'main.js') });
  const address = `127.0.0.1:${await waitForListening(server)}`;
  const client = connect(address);
  try {
    const customer = new CustomerStream(client, 'joe');
    const session = await customer.init();
    const agent = new AgentStream(client, 'agent-smith');
    expect((await agent.accept()).sessionId).toBe(session.sessionId);
    customer.send('hello from a copy');
    expect(describeAgentResponse(await agent.next())).toBe('customer: hello from a copy');
    customer.end();
    agent.end();
  } finally {
    client.close();
  }
  expect(server.stderr).toEqual([]);
});
