import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Messages written to a stream that broke for good before their arrival could be checked. */
export type UnconfirmedMessages = Readonly<{ sessionId: string; texts: readonly string[] }>;

type StateDocument = { sessions: Record<string, string>; unconfirmed: Record<string, UnconfirmedMessages> };

/**
 * The customer app's memory: the last session id per user, so that the next run resumes it, and
 * the messages whose arrival the last run could not check, so that the next run checks them in
 * the history it receives. Default `$XDG_STATE_HOME/support-chat/sessions.json`
 * (`~/.local/state/...` without it).
 */
export class StateFile {
  constructor(readonly file: string = defaultStateFile()) {}

  lastSession(user: string): string | undefined {
    return this.read().sessions[user.toLowerCase()];
  }

  remember(user: string, sessionId: string): void {
    this.update((state) => (state.sessions[user.toLowerCase()] = sessionId));
  }

  forget(user: string): void {
    this.update((state) => delete state.sessions[user.toLowerCase()]);
  }

  unconfirmed(user: string): UnconfirmedMessages | undefined {
    return this.read().unconfirmed[user.toLowerCase()];
  }

  rememberUnconfirmed(user: string, messages: UnconfirmedMessages): void {
    this.update((state) => (state.unconfirmed[user.toLowerCase()] = messages));
  }

  forgetUnconfirmed(user: string): void {
    this.update((state) => delete state.unconfirmed[user.toLowerCase()]);
  }

  private update(change: (state: StateDocument) => void): void {
    const state = this.read();
    change(state);
    this.write(state);
  }

  /** A missing or unreadable file is an empty memory: the worst case is a new session. */
  private read(): StateDocument {
    try {
      const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8')) as { sessions?: unknown; unconfirmed?: unknown };
      return { sessions: stringsOf(parsed.sessions), unconfirmed: unconfirmedOf(parsed.unconfirmed) };
    } catch {
      return { sessions: {}, unconfirmed: {} };
    }
  }

  /** Written to a temporary file and renamed, so a crash never leaves half a file; private to the user. */
  private write({ sessions, unconfirmed }: StateDocument): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const temporary = `${this.file}.${process.pid}.tmp`;
    // `unconfirmed` only while there is some, so the file stays as simple as it was without it.
    const document = Object.keys(unconfirmed).length > 0 ? { sessions, unconfirmed } : { sessions };
    fs.writeFileSync(temporary, JSON.stringify(document, null, 2) + '\n', { mode: 0o600 });
    fs.renameSync(temporary, this.file);
  }
}

function stringsOf(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(Object.entries(value).filter((pair): pair is [string, string] => typeof pair[1] === 'string'));
}

function unconfirmedOf(value: unknown): Record<string, UnconfirmedMessages> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(
    Object.entries(value).filter((pair): pair is [string, UnconfirmedMessages] => {
      const entry = pair[1] as { sessionId?: unknown; texts?: unknown } | null;
      return typeof entry?.sessionId === 'string' && Array.isArray(entry.texts) && entry.texts.every((text) => typeof text === 'string');
    }),
  );
}

function defaultStateFile(): string {
  const base = process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'support-chat', 'sessions.json');
}
