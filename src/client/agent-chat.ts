import type { ChatAgentRequest, ChatAgentResponse } from '../../gen/support';
import type { ChatOptions } from './chat-options';
import { agentProtocol } from './chat-protocol';
import { ResilientChat, type SessionInfo } from './resilient-chat';

/**
 * An agent's chat (`ChatAgent`): accept a session, reply, leave. After a break the stream is
 * reconnected and the same session accepted again; see `ChatEvents` for what the app receives.
 */
export class AgentChat extends ResilientChat<ChatAgentRequest, ChatAgentResponse> {
  constructor(options: ChatOptions) {
    super(agentProtocol, options);
  }

  /**
   * Joins session `sessionId`, or without it the session that has waited for an agent the longest.
   * Rejects with FAILED_PRECONDITION when no session is waiting (the chat stays usable).
   */
  accept(sessionId?: string): Promise<SessionInfo> {
    return this.join(sessionId ?? '');
  }

  /** Leaves the session, which stays open for other agents; the agent may accept again. */
  override leave(): Promise<void> {
    return super.leave();
  }
}
