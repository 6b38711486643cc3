import type { EventEmitter } from 'node:events';
import type { ChatEntry, ChatEvents, ConnectionState, RejectedMessage, SessionEnd } from '../../src/client';
import { waitFor } from './wait';

const TIMEOUT_MS = 15_000;

/** Everything a client-library chat reported, in order, with waits on conditions instead of sleeps. */
export class ChatRecorder {
  /** Entries as `author: text`, in the order the app received them. */
  readonly entries: string[] = [];
  readonly rawEntries: ChatEntry[] = [];
  readonly states: ConnectionState[] = [];
  readonly ends: SessionEnd[] = [];
  readonly rejected: RejectedMessage[] = [];

  constructor(chat: EventEmitter<ChatEvents>) {
    chat.on('entry', (entry) => {
      this.rawEntries.push(entry);
      this.entries.push(`${entry.author.id}: ${entry.text}`);
    });
    chat.on('state', (state) => this.states.push(state));
    chat.on('sessionEnded', (end) => this.ends.push(end));
    chat.on('messageRejected', (rejected) => this.rejected.push(rejected));
  }

  /** The kinds of the states reported, in order. */
  stateKinds(): string[] {
    return this.states.map((state) => state.kind);
  }

  /** How many times the chat entered the state `kind`. */
  count(kind: ConnectionState['kind']): number {
    return this.states.filter((state) => state.kind === kind).length;
  }

  last(): ConnectionState | undefined {
    return this.states[this.states.length - 1];
  }

  async waitForEntries(count: number, timeoutMs = TIMEOUT_MS): Promise<string[]> {
    await waitFor(() => this.entries.length >= count, timeoutMs, `${count} entries (have ${JSON.stringify(this.entries)})`);
    return this.entries;
  }

  /** Waits until the chat has entered `kind` at least `times` times in all. */
  async waitForState(kind: ConnectionState['kind'], times = 1, timeoutMs = TIMEOUT_MS): Promise<void> {
    await waitFor(() => this.count(kind) >= times, timeoutMs, `state ${kind} ×${times} (have ${this.stateKinds().join(',')})`);
  }

  async waitForEnd(timeoutMs = TIMEOUT_MS): Promise<SessionEnd> {
    await waitFor(() => this.ends.length > 0, timeoutMs, 'the session end');
    return this.ends[0]!;
  }

  /** The closed state's reason (waits for it). */
  async closed(timeoutMs = TIMEOUT_MS) {
    await this.waitForState('closed', 1, timeoutMs);
    const last = this.last();
    if (last?.kind !== 'closed') throw new Error(`a state after closed: ${this.stateKinds().join(',')}`);
    return last.reason;
  }
}
