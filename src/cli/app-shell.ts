import type { ConnectionState, CustomerChat, AgentChat } from '../client';
import { formatEntry, formatStateChange, type UnconfirmedNote } from './format';
import type { Terminal } from './terminal';
import { oneLine, quoted } from '../text/untrusted-text';

/**
 * What both terminal apps do alike: print entries and connection changes, handle input lines one
 * after another, send messages without blocking the prompt, and shut down cleanly.
 */
export class AppShell {
  /** Resolves with the exit code once the app is done. */
  readonly done: Promise<number>;
  private finish!: (code: number) => void;
  private finishing = false;
  private lines: Promise<void> = Promise.resolve();
  /** The session the app opens by itself at start (the customer's), until it is open or failed. */
  private opening: Promise<unknown> = Promise.resolve();
  private readonly sending = new Set<Promise<void>>();
  private previous: ConnectionState = { kind: 'idle' };

  constructor(
    readonly chat: CustomerChat | AgentChat,
    readonly terminal: Terminal,
    private readonly unconfirmedNote: UnconfirmedNote = 'unknown',
  ) {
    this.done = new Promise((resolve) => (this.finish = resolve));
    chat.on('entry', (entry) => terminal.print(formatEntry(entry)));
    chat.on('messageRejected', ({ text, error }) => terminal.print(`* the server refused ${quoted(text)}: ${oneLine(error.message)}`));
    chat.on('state', (state) => this.onState(state));
    // The end of input asks to quit once: piped input that ends with /quit asks twice, and is not
    // in a hurry. Only a Ctrl-C while quitting means "stop waiting".
    terminal.onEnd(() => void (this.finishing ? undefined : this.quit(0)));
    terminal.onInterrupt(() => void this.quit(0));
  }

  /** The session being opened at start: quitting waits for it, so lines typed ahead are reported after it. */
  opens(session: Promise<unknown>): void {
    this.opening = session.catch(() => {});
  }

  /** Whether the app closed the chat itself (a forced quit), so a failure that follows is no news. */
  get closedByApp(): boolean {
    const state = this.chat.connectionState;
    return state.kind === 'closed' && state.reason.kind === 'closed-by-app';
  }

  /** Handles each input line with `handler`, in order, one at a time. */
  handleLines(handler: (line: string) => Promise<void> | void): void {
    this.terminal.onLine((line) => {
      this.lines = this.lines.then(() => handler(line)).catch((err: unknown) => this.terminal.print(`* ${errorText(err)}`));
    });
  }

  /** Sends without waiting (the prompt stays free while reconnecting); a failure is printed. */
  send(text: string): void {
    const sent = this.chat.send(text).catch((err: unknown) => this.terminal.print(`* not sent: ${quoted(text)} (${errorText(err)})`));
    this.sending.add(sent);
    void sent.finally(() => this.sending.delete(sent));
  }

  /** Lets pending messages reach the server, disconnects (the session stays open) and ends the app; a second call (Ctrl-C) stops waiting. */
  async quit(code: number): Promise<void> {
    if (this.finishing) {
      // Asked twice (a second Ctrl-C): stop waiting for pending messages.
      this.chat.close();
      return;
    }
    this.finishing = true;
    await this.lines;
    if (this.sending.size > 0) await this.opening;
    if (this.sending.size > 0) this.terminal.print(`* sending ${this.sending.size} pending message(s) before quitting…`);
    await Promise.all(this.sending);
    await this.chat.closeGracefully();
    this.terminal.close();
    this.finish(code);
  }

  private onState(state: ConnectionState): void {
    const line = formatStateChange(state, this.previous, this.unconfirmedNote);
    this.previous = state;
    if (line) this.terminal.print(line);
    if (state.kind === 'closed' && state.reason.kind !== 'closed-by-app') {
      this.finishing = true;
      this.terminal.close();
      this.finish(1);
    }
  }
}

/** An error's message, safe to print: it may carry the server's details. */
export function errorText(err: unknown): string {
  return oneLine(err instanceof Error ? err.message : String(err));
}
