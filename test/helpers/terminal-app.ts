import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { collectLines } from './server-process';
import { waitFor } from './wait';

/** The built terminal apps (`npm test` builds before jest runs). */
export const CUSTOMER_APP = path.resolve(__dirname, '..', '..', 'dist', 'src', 'cli', 'customer-app.js');
export const AGENT_APP = path.resolve(__dirname, '..', '..', 'dist', 'src', 'cli', 'agent-app.js');

/** A terminal app driven through pipes: lines typed on stdin, lines printed on stdout. */
export type TerminalApp = {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly stderr: string[];
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
  type(line: string): void;
  /** Ends stdin, as Ctrl-D does. */
  endInput(): void;
  /** Waits for a printed line matching `pattern` (after `from`, an index into `lines`); returns its match. */
  waitForLine(pattern: RegExp, from?: number, timeoutMs?: number): Promise<RegExpExecArray>;
  /** The chat entries printed, as `name: text` (the time stripped). */
  entries(): string[];
};

export function spawnApp(script: string, args: string[]): TerminalApp {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
  const lines: string[] = [];
  const stderr: string[] = [];
  collectLines(child.stdout, lines);
  collectLines(child.stderr, stderr);
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return {
    child,
    lines,
    stderr,
    exited,
    type: (line) => child.stdin.write(line + '\n'),
    endInput: () => child.stdin.end(),
    async waitForLine(pattern, from = 0, timeoutMs = 20_000) {
      let match: RegExpExecArray | null = null;
      await waitFor(
        () => lines.slice(from).some((line) => (match = pattern.exec(line)) !== null),
        timeoutMs,
        `a line matching ${pattern} (printed: ${JSON.stringify(lines)}; stderr: ${JSON.stringify(stderr)})`,
      );
      return match!;
    },
    entries: () => lines.flatMap((line) => /^\[\d\d:\d\d:\d\d\] (.*)$/.exec(line)?.[1] ?? []),
  };
}
