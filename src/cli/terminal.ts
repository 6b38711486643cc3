import readline from 'node:readline';

/**
 * The prompt line and the output above it. On a terminal, lines printed while the user types go
 * above the prompt and the half-typed line is redrawn; from a pipe, input is read line by line and
 * output is plain lines (no prompt, no echo), so scripts and tests can drive the apps.
 */
export class Terminal {
  private readonly rl: readline.Interface;
  private readonly interactive: boolean;
  private closed = false;

  constructor(
    private readonly input: NodeJS.ReadStream = process.stdin,
    private readonly output: NodeJS.WriteStream = process.stdout,
  ) {
    this.interactive = Boolean(input.isTTY && output.isTTY);
    this.rl = readline.createInterface({
      input,
      output: this.interactive ? output : undefined,
      terminal: this.interactive,
      prompt: '> ',
    });
    this.rl.on('close', () => (this.closed = true));
  }

  onLine(handler: (line: string) => void): void {
    this.rl.on('line', (line) => {
      handler(line);
      this.prompt();
    });
  }

  /** Called when input ends (Ctrl-D, the pipe closed, or `close()`). */
  onEnd(handler: () => void): void {
    this.rl.on('close', handler);
  }

  /** Called on every Ctrl-C at the prompt. */
  onInterrupt(handler: () => void): void {
    this.rl.on('SIGINT', handler);
  }

  print(line: string): void {
    if (!this.interactive || this.closed) {
      this.output.write(line + '\n');
      return;
    }
    readline.clearLine(this.output, 0);
    readline.cursorTo(this.output, 0);
    this.output.write(line + '\n');
    this.rl.prompt(true);
  }

  prompt(): void {
    if (this.interactive && !this.closed) this.rl.prompt(true);
  }

  close(): void {
    this.rl.close();
    // Reading from a terminal or a pipe keeps the process alive; nothing more is read.
    this.input.pause();
  }
}
