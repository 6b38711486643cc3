// The README's client-library example, installed as the README says (a local dependency: npm links
// the repository's folder into the application's node_modules), run as a program of its own.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir, removeTempDir, startTestServer, type TestServer } from '../helpers/test-server';

const ROOT = path.resolve(__dirname, '..', '..');
const run = promisify(execFile);

let server: TestServer;
let dir: string;

beforeEach(async () => {
  server = await startTestServer();
  dir = makeTempDir('support-readme-example-');
});

afterEach(async () => {
  await server.stop();
  removeTempDir(dir);
});

/** The README's example program: the code block that imports from 'support-chat'. */
function readmeExample(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!).find((code) => code.includes("from 'support-chat'"));
  if (!block) throw new Error("README.md has no ts example importing 'support-chat'");
  return block;
}

test('the README example, installed as a local dependency, chats, hangs up and closes; the process then exits by itself', async () => {
  const app = path.join(dir, 'app');
  fs.mkdirSync(path.join(app, 'node_modules'), { recursive: true });
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'example-app', private: true, type: 'module' }));
  // What `npm install /path/to/support-chat` leaves behind: a link to the folder.
  fs.symlinkSync(ROOT, path.join(app, 'node_modules', 'support-chat'), 'dir');
  const example = readmeExample().replace("'127.0.0.1:12345'", `'${server.address}'`);
  expect(example).toContain(server.address);
  fs.writeFileSync(path.join(app, 'example.js'), example);

  // execFile rejects on a non-zero exit, or when the program is still running after the timeout.
  const { stdout, stderr } = await run(process.execPath, ['example.js'], { cwd: app, timeout: 30_000 });
  expect(stderr).toBe('');
  expect(stdout.trim().split('\n')).toEqual([
    'connection: connecting',
    'connection: connected',
    expect.stringMatching(/^session [A-Za-z0-9_-]{22,}$/),
    'connection: idle',
    'connection: closed',
  ]);
});
