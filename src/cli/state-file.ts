import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The customer app's memory: the last session id per user, so that the next run resumes it.
 * Default `$XDG_STATE_HOME/support-chat/sessions.json` (`~/.local/state/...` without it).
 */
export class StateFile {
  constructor(readonly file: string = defaultStateFile()) {}

  lastSession(user: string): string | undefined {
    return this.read()[user.toLowerCase()];
  }

  remember(user: string, sessionId: string): void {
    this.write({ ...this.read(), [user.toLowerCase()]: sessionId });
  }

  forget(user: string): void {
    const sessions = this.read();
    delete sessions[user.toLowerCase()];
    this.write(sessions);
  }

  /** A missing or unreadable file is an empty memory: the worst case is a new session. */
  private read(): Record<string, string> {
    try {
      const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8')) as { sessions?: unknown };
      const sessions = parsed.sessions;
      if (typeof sessions !== 'object' || sessions === null) return {};
      return Object.fromEntries(Object.entries(sessions).filter((pair): pair is [string, string] => typeof pair[1] === 'string'));
    } catch {
      return {};
    }
  }

  /** Written to a temporary file and renamed, so a crash never leaves half a file; private to the user. */
  private write(sessions: Record<string, string>): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const temporary = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify({ sessions }, null, 2) + '\n', { mode: 0o600 });
    fs.renameSync(temporary, this.file);
  }
}

function defaultStateFile(): string {
  const base = process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'support-chat', 'sessions.json');
}
