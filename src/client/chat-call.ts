import type { ClientDuplexStream, Metadata, StatusObject } from '@grpc/grpc-js';
import type { SupportClient } from '../../gen/support';
import type { ChatProtocol, Incoming } from './chat-protocol';
import type { Outbox } from './outbox';

/**
 * One call to the server: opened with a join request, fed from the outbox once joined, over when
 * `finished` resolves. What happened on it (joined, timed out, half-closed...) is kept for the
 * decision that follows its end.
 */
export class ChatCall<Req, Res> {
  /** The server answered the join. */
  joined = false;
  /** The join was not answered within the timeout, and the call was cancelled. */
  timedOut = false;
  /** The server said session_ended (agents); nothing more is written. */
  sessionEnded = false;
  /** This side half-closed (after a leave, or to close gracefully); nothing more is written. */
  halfClosed = false;
  /** The final status, once every response before it was handled. */
  readonly finished: Promise<StatusObject>;
  private waitingForDrain = false;
  private readonly call: ClientDuplexStream<Req, Res>;

  constructor(
    private readonly protocol: ChatProtocol<Req, Res>,
    client: SupportClient,
    metadata: Metadata,
    joinSessionId: string,
    joinTimeoutMs: number,
    onIncoming: (incoming: Incoming, call: ChatCall<Req, Res>) => void,
  ) {
    const call = (this.call = protocol.open(client, metadata));
    const timer = setTimeout(() => {
      this.timedOut = true;
      call.cancel();
    }, joinTimeoutMs);
    call.on('data', (response: Res) => {
      const incoming = protocol.read(response);
      if (incoming?.kind === 'joined') clearTimeout(timer);
      if (incoming) onIncoming(incoming, this);
    });
    call.on('error', () => {}); // the 'status' event carries the outcome
    this.finished = new Promise((resolve) => {
      // grpc-js emits 'status' while responses may still sit in the stream's buffer; 'end' comes
      // after the last of them was handled, so the call is over when both were seen.
      let status: StatusObject | undefined;
      let ended = false;
      const finish = () => {
        if (!status || !ended) return;
        clearTimeout(timer);
        resolve(status);
      };
      call.on('end', () => ((ended = true), finish()));
      call.on('status', (received: StatusObject) => ((status = received), finish()));
    });
    call.write(protocol.join(joinSessionId));
  }

  /**
   * Writes what the outbox holds, in order, while the call is joined; stops to wait for 'drain'
   * when grpc-js asks to. A message's promise resolves once grpc-js has written it out.
   */
  writeFrom(outbox: Outbox): void {
    if (!this.joined || this.halfClosed || this.waitingForDrain || this.sessionEnded) return;
    for (let item = outbox.take(); item; item = outbox.take()) {
      if (item.kind !== 'message') {
        // The server answers a half-close with OK once it has handled every request before it.
        if (item.kind === 'leave') this.call.write(this.protocol.leave());
        this.halfClose();
        return;
      }
      const written = item;
      const writable = this.call.write(this.protocol.message(item.text), (error?: Error | null) => {
        if (!error) written.resolve(undefined);
      });
      if (!writable) {
        this.waitingForDrain = true;
        this.call.once('drain', () => {
          this.waitingForDrain = false;
          this.writeFrom(outbox);
        });
        return;
      }
    }
  }

  halfClose(): void {
    this.halfClosed = true;
    this.call.end();
  }

  cancel(): void {
    this.call.cancel();
  }
}
