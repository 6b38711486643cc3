import { status as Status } from '@grpc/grpc-js';
import type { ChatCustomerRequest, ChatCustomerResponse } from '../../gen/support';
import { ChatClientError } from './chat-client-error';
import type { ChatOptions } from './chat-options';
import { customerProtocol } from './chat-protocol';
import { ResilientChat, type SessionInfo } from './resilient-chat';

/**
 * A customer's chat (`ChatCustomer`): start or resume a session, send messages, hang up. The
 * stream is reconnected and the session resumed automatically after a break; see `ChatEvents` for
 * what the app receives.
 */
export class CustomerChat extends ResilientChat<ChatCustomerRequest, ChatCustomerResponse> {
  constructor(options: ChatOptions) {
    super(customerProtocol, options);
  }

  /** Starts a new session; its history (empty) and then agents' messages arrive as `entry` events. */
  start(): Promise<SessionInfo> {
    return this.join('');
  }

  /** Resumes an open session of this customer by id; every entry of its history arrives as an `entry` event. */
  resume(sessionId: string): Promise<SessionInfo> {
    if (sessionId === '') return Promise.reject(new ChatClientError(Status.INVALID_ARGUMENT, 'resume needs a session id'));
    return this.join(sessionId);
  }

  /** Ends the session for everyone, after the messages sent before it; resolves once the server has done it. */
  hangUp(): Promise<void> {
    return this.leave();
  }
}
