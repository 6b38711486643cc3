import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { waitFor } from './wait';

/** The built server entry point (`npm test` builds before jest runs). */
export const SERVER_ENTRY = path.resolve(__dirname, '..', '..', 'dist', 'src', 'main.js');

/** The built server as a child process, with its output recorded. */
export type ServerProcess = {
  readonly child: ChildProcess;
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  exitCode(): number | string | undefined;
};

/** Starts `node dist/src/main.js ...args` (or another `entry`) in `cwd`, with `env` added to a clean environment. */
export function spawnServer(args: string[], options: { cwd?: string; env?: Record<string, string>; entry?: string } = {}): ServerProcess {
  const env = { PATH: process.env.PATH ?? '', ...options.env };
  const child = spawn(process.execPath, [options.entry ?? SERVER_ENTRY, ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  collectLines(child.stdout!, stdout);
  collectLines(child.stderr!, stderr);
  let code: number | string | undefined;
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (exitCode, signal) => resolve((code = exitCode ?? signal ?? 'unknown'))),
  );
  return { child, stdout, stderr, exited, exitCode: () => code };
}

/** Waits for the `listening on HOST:PORT` log line and returns the port. */
export async function waitForListening(server: ServerProcess, timeoutMs = 15_000): Promise<number> {
  let port: number | undefined;
  await waitFor(
    () => {
      const line = server.stdout.find((l) => l.includes('listening on'));
      port = line ? Number(/listening on [^"]*:(\d+)/.exec(line)?.[1]) : undefined;
      return port !== undefined || server.exitCode() !== undefined;
    },
    timeoutMs,
    'the server to listen',
  );
  if (port === undefined) throw new Error(`server exited with ${server.exitCode()}: ${server.stderr.join('\n')} ${server.stdout.join('\n')}`);
  return port;
}

/** The stdout lines parsed as JSON log records. */
export function logRecords(server: ServerProcess): Record<string, unknown>[] {
  return server.stdout.map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Appends each complete non-empty line of `stream` to `into`. */
export function collectLines(stream: NodeJS.ReadableStream, into: string[]): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    into.push(...parts.filter((line) => line.length > 0));
  });
}
