import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// Not a timed test: it checks that `npm run bench` works end to end and finds no loss, duplication
// or reordering, on a run of a few seconds. The numbers themselves live in BENCHMARKS.md.
test('the benchmark runs against the real server and the bare relay and finds no loss', async () => {
  const script = path.resolve(__dirname, '..', 'dist', 'bench', 'run-bench.js');
  const { stdout } = await run(process.execPath, [script, '--quick'], { timeout: 60_000 });
  const rows = stdout.split('\n').filter((line) => /^\| S=2 /.test(line));
  expect(rows).toHaveLength(4);
  for (const server of ['relay', 'real']) expect(rows.filter((r) => r.includes(`| ${server} `))).toHaveLength(2);
  for (const row of rows) {
    const cells = row.split('|').map((c) => c.trim());
    expect(Number(cells[3])).toBeGreaterThan(0); // messages per second
    expect(cells[9]).toBe('0/0/0'); // lost / duplicated / reordered
  }
}, 90_000);
