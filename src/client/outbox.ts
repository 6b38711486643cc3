import { status as Status } from '@grpc/grpc-js';
import { ChatClientError } from './chat-client-error';
import { Deferred } from './deferred';

/**
 * What the app asked to send, with the promise it holds: a message, the request to leave (hang up /
 * leave the session), or the half-close of a graceful close.
 */
export class Outgoing extends Deferred<void> {
  constructor(
    readonly kind: 'message' | 'leave' | 'detach',
    readonly text = '',
  ) {
    super();
  }
}

/**
 * What this side wants to send, in order: `queued` is not yet written on the current stream;
 * `written` was written since the last history the client received, and is not yet known to be in it.
 */
export class Outbox {
  private queued: Outgoing[] = [];
  private written: Outgoing[] = [];

  add(item: Outgoing): void {
    this.queued.push(item);
  }

  /** The next item to write; it counts as written from now on. */
  take(): Outgoing | undefined {
    const item = this.queued.shift();
    if (item) this.written.push(item);
    return item;
  }

  /** Texts written since the last history, in the order written. */
  writtenTexts(): string[] {
    return this.written.filter((item) => item.kind === 'message').map((item) => item.text);
  }

  writtenMessageCount(): number {
    return this.writtenTexts().length;
  }

  /**
   * After a resumed history: the first `committed` written messages are in it (their promises
   * resolve); the rest was lost with the stream and goes back to the front of the queue, to be
   * written again, in the same order.
   */
  resync(committed: number): void {
    const messages = this.written.filter((item) => item.kind === 'message');
    messages.slice(0, committed).forEach((item) => item.resolve(undefined));
    const confirmed = new Set(messages.slice(0, committed));
    this.queued = [...this.written.filter((item) => !confirmed.has(item)), ...this.queued];
    this.written = [];
  }

  /** Removes the first queued message (the server refused it) and returns it. */
  dropFirstMessage(): Outgoing | undefined {
    const index = this.queued.findIndex((item) => item.kind === 'message');
    return index < 0 ? undefined : this.queued.splice(index, 1)[0];
  }

  /** The stream ended in good order (status OK after our half-close): everything written arrived. */
  confirmWritten(): void {
    this.written.forEach((item) => item.resolve(undefined));
    this.written = [];
  }

  /**
   * Fails everything still pending with `error`. Returns the texts of messages written but never
   * confirmed (they may have arrived) and of messages never written.
   */
  failAll(error: ChatClientError): { unconfirmed: string[]; unsent: string[] } {
    const unconfirmed = this.written.filter((item) => item.kind === 'message').map((item) => item.text);
    const unsent = this.queued.filter((item) => item.kind === 'message').map((item) => item.text);
    const maybe = new ChatClientError(error.code, `${error.message} (the message was written; it may or may not have arrived)`);
    this.written.forEach((item) => item.reject(maybe));
    this.queued.forEach((item) => item.reject(error));
    this.written = [];
    this.queued = [];
    return { unconfirmed, unsent };
  }
}

/** The error for messages that can no longer be sent because the session is over. */
export function sessionOverError(why: string): ChatClientError {
  return new ChatClientError(Status.FAILED_PRECONDITION, `not sent: ${why}`);
}
