import { status as Status, type ServerDuplexStream } from '@grpc/grpc-js';
import type { CallStatus } from './grpc-status';
import { resetCall, statusWasSent } from './http2-stream-of';

/**
 * How one call ends: the status this side ends it with (`end`), and, once grpc-js is done with
 * the call, the status its client really got (`onFinished`). A status raced by the client's
 * cancel, or stuck behind responses the client never reads, is settled through the call's HTTP/2
 * stream (http2-stream-of.ts), which grpc-js has no public API for.
 */
export class CallOutcome {
  /** The status this side ended the call with, once it has. */
  private endedWith: CallStatus | undefined;
  /** grpc-js is done with the call (it emitted 'cancelled'). */
  private finished = false;

  constructor(
    private readonly call: ServerDuplexStream<unknown, unknown>,
    onFinished: (delivered: CallStatus) => void,
  ) {
    // grpc-js emits 'cancelled' once it is done with a call: after sending its status, or when the
    // client reset the stream or its connection died before that status went out.
    call.once('cancelled', () => {
      this.finished = true;
      onFinished(this.endedWith && statusWasSent(call) ? this.endedWith : CANCELLED);
    });
  }

  /** Whether the call is over: this side ended it, or grpc-js is done with it. */
  get over(): boolean {
    return this.endedWith !== undefined || this.finished;
  }

  /**
   * Sends `status`: after every response already written with OK, at once otherwise. A client that
   * still reads nothing (the status waits behind what the transport holds) is reset after
   * `resetAfterMs` by `reset`. The caller ends a call once (see `over`).
   */
  end(status: CallStatus, resetAfterMs: number, reset: () => void): void {
    this.endedWith = status;
    if (status.code === Status.OK) this.call.end();
    else this.call.emit('error', { code: status.code, details: status.details });
    const timer = setTimeout(reset, resetAfterMs);
    timer.unref();
    this.call.once('cancelled', () => clearTimeout(timer));
  }

  /** Resets the HTTP/2 stream (RST_STREAM), freeing everything the transport holds for it. */
  reset(): void {
    resetCall(this.call);
  }
}

const CANCELLED: CallStatus = { code: Status.CANCELLED, details: 'cancelled by the client' };
