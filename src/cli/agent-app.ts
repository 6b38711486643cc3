// The agent's terminal app: `npm run agent -- --user agent-smith [--server HOST:PORT]`.
import { status } from '@grpc/grpc-js';
import { AgentChat, ChatClientError } from '../client';
import { AppShell, errorText } from './app-shell';
import { chatOptionsFrom } from './chat-options-from-cli';
import { AGENT_FLAGS_HELP, parseAgentOptions, UsageError } from './cli-options';
import { Terminal } from './terminal';
import { oneLine, shownName } from '../text/untrusted-text';

const USAGE = [
  'usage: npm run agent -- --user agent-ID [flags]   (or --jwt-file PATH instead of --user)',
  AGENT_FLAGS_HELP,
  'Commands: /accept takes the session that has waited longest, /accept ID a given one; /leave; /quit (or Ctrl-D).',
].join('\n');

const HELP = '* /accept [session id], /leave, /quit; other lines are sent to the session';

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help')) return (process.stdout.write(USAGE + '\n'), 0);
  let chat: AgentChat;
  let server: string;
  try {
    const options = parseAgentOptions(argv);
    server = options.server;
    chat = new AgentChat(chatOptionsFrom(options));
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof ChatClientError)) throw err;
    process.stderr.write(`agent: ${err.message}\n`);
    return 2;
  }
  const shell = new AppShell(chat, new Terminal());
  wireSessionEvents(shell, chat);
  shell.handleLines((line) => onLine(shell, chat, line));
  shell.terminal.print(`* ${chat.userId} on ${server}; ${HELP.slice(2)}`);
  shell.terminal.prompt();
  return shell.done;
}

function wireSessionEvents(shell: AppShell, chat: AgentChat): void {
  let previous = chat.connectionState.kind;
  chat.on('state', (change) => {
    // The first 'connected' of a session follows 'connecting'; later ones follow a reconnect.
    if (change.kind === 'connected' && previous === 'connecting') {
      shell.terminal.print(`* accepted session ${oneLine(change.sessionId)} of customer ${shownName(chat.session?.customerName ?? '')}`);
    }
    previous = change.kind;
  });
  chat.on('sessionEnded', (end) => {
    const why = end.reason === 'not-found' ? 'is gone' : 'has ended (the customer hung up)';
    shell.terminal.print(`* session ${oneLine(end.sessionId)} ${why}; /accept for the next one`);
  });
}

async function onLine(shell: AppShell, chat: AgentChat, line: string): Promise<void> {
  const [command, argument, ...rest] = line.trim().split(/\s+/);
  if (!command) return;
  if (command === '/accept' && rest.length === 0) return accept(shell, chat, argument);
  if (command === '/leave') return leave(shell, chat);
  if (command === '/quit') return void shell.quit(0);
  if (command.startsWith('/')) return shell.terminal.print(HELP);
  if (chat.connectionState.kind === 'idle') return shell.terminal.print('* not in a session: /accept one first');
  shell.send(line);
}

async function accept(shell: AppShell, chat: AgentChat, sessionId: string | undefined): Promise<void> {
  if (chat.connectionState.kind !== 'idle') return shell.terminal.print(`* already in session ${oneLine(chat.sessionId ?? '')}: /leave first`);
  await chat.accept(sessionId).catch((err: unknown) => {
    const empty = sessionId === undefined && err instanceof ChatClientError && err.code === status.FAILED_PRECONDITION;
    shell.terminal.print(empty ? '* no session is waiting for an agent' : `* could not accept: ${errorText(err)}`);
  });
}

async function leave(shell: AppShell, chat: AgentChat): Promise<void> {
  const sessionId = chat.sessionId;
  if (!sessionId) return shell.terminal.print('* not in a session');
  await chat.leave();
  shell.terminal.print(`* left session ${oneLine(sessionId)}; it stays open for other agents`);
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`agent: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
