// The customer's terminal app: `npm run customer -- --user joe [--server HOST:PORT]`.
import { status } from '@grpc/grpc-js';
import { ChatClientError, CustomerChat, type ChatEntry, type SessionInfo } from '../client';
import { AppShell, errorText } from './app-shell';
import { formatUndelivered } from './format';
import { chatOptionsFrom } from './chat-options-from-cli';
import { CUSTOMER_FLAGS_HELP, parseCustomerOptions, UsageError, type CustomerCliOptions } from './cli-options';
import { StateFile } from './state-file';
import { Terminal } from './terminal';
import { oneLine, quoted } from '../text/untrusted-text';

const USAGE = [
  'usage: npm run customer -- --user ID [flags]   (or --jwt-file PATH instead of --user)',
  CUSTOMER_FLAGS_HELP,
  'Type a line to send it; /hangup ends the session; /quit (or Ctrl-D) leaves it open to resume later.',
].join('\n');

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help')) return (process.stdout.write(USAGE + '\n'), 0);
  let options: CustomerCliOptions;
  let chat: CustomerChat;
  try {
    options = parseCustomerOptions(argv);
    chat = new CustomerChat(chatOptionsFrom(options));
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof ChatClientError)) throw err;
    process.stderr.write(`customer: ${err.message}\n`);
    return 2;
  }
  const shell = new AppShell(chat, new Terminal(), 'checked-next-start');
  const state = new StateFile(options.stateFile);
  wireSessionEvents(shell, chat, state, chat.userId);
  shell.handleLines((line) => onLine(shell, chat, line));
  shell.terminal.print(`* connecting to ${options.server} as ${chat.userId}…`);
  const opening = openSession(shell, chat, state, options);
  shell.opens(opening);
  await opening.catch((err: unknown) => {
    if (shell.closedByApp) return; // quit with Ctrl-C twice before the session opened
    shell.terminal.print(`* could not open a session: ${errorText(err)}`);
    void shell.quit(1);
  });
  return shell.done;
}

/**
 * Resumes the user's last session if it is still open, else starts a new one; remembers it either
 * way. Messages the last run could not confirm are looked up in the resumed history.
 */
async function openSession(shell: AppShell, chat: CustomerChat, state: StateFile, options: CustomerCliOptions): Promise<void> {
  const last = options.new ? undefined : state.lastSession(chat.userId);
  let session: SessionInfo | undefined;
  if (last) {
    const own = ownTextsDuring(chat);
    session = await chat.resume(last).catch((err: unknown) => {
      if (!(err instanceof ChatClientError) || ![status.NOT_FOUND, status.FAILED_PRECONDITION].includes(err.code)) throw err;
      shell.terminal.print(`* your last session ${oneLine(last)} is over; starting a new one`);
      reportUnknown(shell, state, chat.userId, last);
      return undefined;
    });
    if (session) reportUndelivered(shell, state, chat.userId, session.sessionId, own.stop());
  }
  session ??= await chat.start();
  state.remember(chat.userId, session.sessionId);
}

/** Collects the texts of this user's own entries emitted until `stop()` (the history of a join). */
function ownTextsDuring(chat: CustomerChat): { stop: () => string[] } {
  const texts: string[] = [];
  const collect = (entry: ChatEntry) => void (entry.fromMe && texts.push(entry.text));
  chat.on('entry', collect);
  return { stop: () => (chat.off('entry', collect), texts) };
}

/** What the last run could not confirm in a session that is over: its history cannot be had, so it stays unknown. */
function reportUnknown(shell: AppShell, state: StateFile, user: string, sessionId: string): void {
  const unconfirmed = state.unconfirmed(user);
  if (unconfirmed?.sessionId !== sessionId) return;
  shell.terminal.print(`* maybe not delivered before the session ended: ${unconfirmed.texts.map(quoted).join(', ')}`);
  state.forgetUnconfirmed(user);
}

/** What the last run could not confirm in `sessionId`, checked against the user's entries in its history. */
function reportUndelivered(shell: AppShell, state: StateFile, user: string, sessionId: string, ownTexts: string[]): void {
  const unconfirmed = state.unconfirmed(user);
  if (!unconfirmed || unconfirmed.sessionId !== sessionId) return;
  const line = formatUndelivered(unconfirmed.texts, ownTexts);
  if (line) shell.terminal.print(line);
  state.forgetUnconfirmed(user);
}

function wireSessionEvents(shell: AppShell, chat: CustomerChat, state: StateFile, user: string): void {
  let announced = false;
  chat.on('state', (change) => {
    if (change.kind !== 'connected' || announced) return;
    announced = true;
    shell.terminal.print(`* session ${oneLine(change.sessionId)}: type to chat, /hangup to end it, /quit to leave it open`);
  });
  chat.on('state', (change) => {
    // Written to a stream that broke for good: the next start looks for them in the history.
    const sessionId = chat.sessionId ?? state.lastSession(user);
    if (change.kind !== 'closed' || change.reason.unconfirmed.length === 0 || !sessionId) return;
    state.rememberUnconfirmed(user, { sessionId, texts: change.reason.unconfirmed });
  });
  chat.on('sessionEnded', (end) => {
    state.forget(user);
    state.forgetUnconfirmed(user);
    const id = oneLine(end.sessionId);
    shell.terminal.print(end.reason === 'hung-up' ? `* you hung up; session ${id} is over` : `* session ${id} has ended`);
    void shell.quit(0);
  });
}

async function onLine(shell: AppShell, chat: CustomerChat, line: string): Promise<void> {
  const command = line.trim();
  if (command === '') return;
  if (command === '/hangup') return chat.hangUp();
  if (command === '/quit') return void shell.quit(0);
  if (command.startsWith('/')) return shell.terminal.print('* commands: /hangup, /quit');
  shell.send(line);
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`customer: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
