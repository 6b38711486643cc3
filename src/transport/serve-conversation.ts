import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { StreamPort } from '../domain/chat-context';
import { ChatError } from '../domain/chat-error';
import { toCallStatus } from './grpc-status';
import type { Identity } from '../auth/identity';
import { RequestThrottle } from './request-throttle';
import { serveCall, type CallEnvironment } from './serve-call';

/** What both conversations offer the transport. */
export interface Conversation {
  readonly lastSessionId: string | undefined;
  close(serverStopping: boolean): Promise<void>;
}

/** How one method binds its conversation to a call. */
export type ConversationMethod<Req, Output, C extends Conversation> = Readonly<{
  role: Exclude<Identity['role'], 'admin'>;
  open: (userId: string, port: StreamPort<Output>) => C;
  /** The output as its encoded response message: responses are encoded here, so their bytes can be counted. */
  encode: (output: Output) => Uint8Array;
  /** Validates one request and applies it; throws (or rejects with) ChatError. `join` counts a join of the user. */
  apply: (conversation: C, request: Req, join: () => void) => Promise<void>;
}>;

/**
 * A grpc-js handler that runs a conversation over a call: outputs become responses on the bounded
 * queue, a takeover ends the call with the domain's status, requests are applied one at a time in
 * the order sent (no faster than the stream's request rate), and however the call ends the
 * conversation is closed exactly once.
 */
export function serveConversation<Req, Res, Output, C extends Conversation>(
  env: CallEnvironment,
  method: ConversationMethod<Req, Output, C>,
): (call: ServerDuplexStream<Req, Res>) => void {
  // Nothing awaits a grpc-js handler: serveCall turns every failure into the call's status.
  return (call) =>
    void serveCall(call, env, method.role, async (stream, identity, reportSession) => {
      const conversation = method.open(identity.userId, {
        id: stream.id,
        signal: stream.signal,
        push: (output) => stream.push(method.encode(output)),
        pushSnapshot: async (snapshot) => stream.push(await env.snapshots.encode(snapshot, stream.signal)),
        abort: (error) => {
          if (error.kind === 'aborted') env.metrics.streamCut('takeover');
          stream.end(toCallStatus(error));
        },
      });
      reportSession(() => conversation.lastSessionId);
      stream.signal.addEventListener('abort', () => {
        const closed = conversation.close(env.isStopping()).catch((err: unknown) => {
          // A stream that outlives the store's last commit at shutdown cannot record its detach: expected.
          if (err instanceof ChatError && err.kind === 'unavailable') return;
          env.logger.error('detaching a stream failed', { user: identity.userId, error: err instanceof Error ? err.stack : String(err) });
        });
        env.closing.add(closed);
        void closed.finally(() => env.closing.delete(closed));
      });
      const join = () => env.joins.take(identity.userId);
      const throttle = new RequestThrottle(env.requestRate);
      const applyThrottled = async (request: Req) => {
        env.metrics.requestThrottled();
        await throttle.take(stream.signal);
        if (!stream.signal.aborted) await method.apply(conversation, request, join);
      };
      // The usual case, a token at hand, costs no extra promise.
      await stream.eachRequest((request) =>
        throttle.tryTake() === 0 ? method.apply(conversation, request, join) : applyThrottled(request),
      );
    });
}
