// The client library of the Support chat service: what apps embed.

// For apps: the two chats, their options and what they report.
export { CustomerChat } from './customer-chat';
export { AgentChat } from './agent-chat';
export type { SessionInfo } from './resilient-chat';
export type { ChatOptions } from './chat-options';
export { jwtSubject, type ChatCredentials, type TlsOptions } from './credentials';
export type { BackoffOptions, GiveUpOptions } from './backoff';
export type { ChatEntry } from './chat-entry';
export type { ChatEvent, ChatEvents, RejectedMessage, SessionEnd } from './chat-events';
export type { CloseReason, CloseReasonKind, ConnectionState } from './connection-state';
export { ChatClientError } from './chat-client-error';

// For tools built on the library: the engine and the pure resume logic.
export { ResilientChat } from './resilient-chat';
export { reconcile, type HistoryCursor, type Reconciled } from './history-sync';
