import type { ClientDuplexStream, Metadata } from '@grpc/grpc-js';
import {
  Void,
  type ChatAgentRequest,
  type ChatAgentResponse,
  type ChatCustomerRequest,
  type ChatCustomerResponse,
  type ChatEntry as ProtoEntry,
  type Session,
  type SupportClient,
} from '../../gen/support';
import { agentMessageEntry } from './chat-entry';

/** A response, as the resilient chat needs it, whichever the method. */
export type Incoming =
  | { kind: 'joined'; session: Session }
  | { kind: 'entry'; entry: ProtoEntry }
  | { kind: 'ended' };

/** The differences between `ChatCustomer` and `ChatAgent`, so that one engine serves both. */
export interface ChatProtocol<Req, Res> {
  readonly role: 'customer' | 'agent';
  /**
   * Whether leaving needs the server's answer: a customer's hang-up ends the session and must
   * arrive; an agent whose stream is gone has left already.
   */
  readonly leaveNeedsServer: boolean;
  /** Opens a call; without waitForReady (the grpc-js default), so an unreachable server fails the attempt at once. */
  open(client: SupportClient, metadata: Metadata): ClientDuplexStream<Req, Res>;
  /** init{resume_session_id} or accept{session_id}; an empty id starts a session / takes the queue's next. */
  join(sessionId: string): Req;
  message(text: string): Req;
  leave(): Req;
  read(response: Res): Incoming | undefined;
}

export const customerProtocol: ChatProtocol<ChatCustomerRequest, ChatCustomerResponse> = {
  role: 'customer',
  leaveNeedsServer: true,
  open: (client, metadata) => client.chatCustomer(metadata),
  join: (resumeSessionId) => ({ req: { $case: 'init', value: { resumeSessionId } } }),
  message: (text) => ({ req: { $case: 'msg', value: text } }),
  leave: () => ({ req: { $case: 'hangUp', value: Void.VOID } }),
  read(response) {
    const resp = response.resp;
    if (resp?.$case === 'session') return { kind: 'joined', session: resp.value };
    if (resp?.$case === 'msg') return { kind: 'entry', entry: agentMessageEntry(resp.value) };
    return undefined;
  },
};

export const agentProtocol: ChatProtocol<ChatAgentRequest, ChatAgentResponse> = {
  role: 'agent',
  leaveNeedsServer: false,
  open: (client, metadata) => client.chatAgent(metadata),
  join: (sessionId) => ({ req: { $case: 'accept', value: { sessionId } } }),
  message: (text) => ({ req: { $case: 'msg', value: text } }),
  leave: () => ({ req: { $case: 'leaveSession', value: Void.VOID } }),
  read(response) {
    const resp = response.resp;
    if (resp?.$case === 'acceptedSession') return { kind: 'joined', session: resp.value };
    if (resp?.$case === 'msg') return { kind: 'entry', entry: resp.value };
    if (resp?.$case === 'sessionEnded') return { kind: 'ended' };
    return undefined;
  },
};
