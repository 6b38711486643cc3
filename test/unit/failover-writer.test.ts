import { Writable } from 'node:stream';
import { failoverWriter } from '../../src/log/failover-writer';

/** A stream that records what it is given, until `broken` is set: then every write fails, as on EPIPE. */
class Output extends Writable {
  readonly lines: string[] = [];
  broken = false;

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    if (this.broken) return done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    this.lines.push(chunk.toString());
    done();
  }
}

/** Lets failed writes report (their callbacks and 'error' events come a tick later). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function setUp() {
  const stdout = new Output();
  const stderr = new Output();
  const failovers: string[] = [];
  const write = failoverWriter(
    [
      { name: 'stdout', stream: stdout },
      { name: 'stderr', stream: stderr },
    ],
    (failed, error) => {
      failovers.push(`${failed}: ${error.message}`);
      write(`switched from ${failed}\n`);
    },
  );
  return { stdout, stderr, failovers, write };
}

test('lines go to the first output while it works', async () => {
  const { stdout, stderr, write } = setUp();
  write('one\n');
  write('two\n');
  await settle();
  expect(stdout.lines).toEqual(['one\n', 'two\n']);
  expect(stderr.lines).toEqual([]);
});

test('when it fails, the failed line and every later one go to the next output, after one notice', async () => {
  const { stdout, stderr, failovers, write } = setUp();
  write('before\n');
  stdout.broken = true;
  write('lost on stdout\n');
  await settle();
  write('after\n');
  await settle();
  expect(stdout.lines).toEqual(['before\n']);
  expect(stderr.lines).toEqual(['switched from stdout\n', 'lost on stdout\n', 'after\n']);
  expect(failovers).toEqual(['stdout: write EPIPE']);
});

test('when every output has failed, lines are dropped without a throw or an unhandled error event', async () => {
  const { stdout, stderr, failovers, write } = setUp();
  stdout.broken = true;
  stderr.broken = true;
  expect(() => write('nowhere to go\n')).not.toThrow();
  await settle();
  expect(() => write('still nowhere\n')).not.toThrow();
  await settle();
  expect(failovers).toEqual(['stdout: write EPIPE']); // not told about the last one: nothing would hear it
});

test('an output that throws at once (e.g. destroyed) is left for the next one', async () => {
  const { stdout, stderr, write } = setUp();
  stdout.write = () => {
    throw new Error('cannot write');
  };
  write('line\n');
  await settle();
  expect(stderr.lines).toEqual(['switched from stdout\n', 'line\n']);
});
