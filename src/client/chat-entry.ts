import type { AgentMessage, ChatEntry as ProtoEntry } from '../../gen/support';

/** One entry of a session's history, as the app sees it. */
export type ChatEntry = Readonly<{
  author: Readonly<{ role: 'customer' | 'agent'; id: string }>;
  text: string;
  /**
   * When the server committed it. The server sends live messages to customers without a date, so
   * for those this is the time the client received them.
   */
  date: Date;
  /** Written by this user (seen in a history: an earlier run of the app, or another device). */
  fromMe: boolean;
}>;

/** Who this chat is, to tell its own entries apart from everyone else's. */
export type Self = Readonly<{ role: 'customer' | 'agent'; id: string }>;

/** The author of a protocol entry; customer entries carry no name, so the session's customer is used. */
export function authorOf(entry: ProtoEntry, customerName: string): ChatEntry['author'] {
  if (entry.entry?.$case === 'agentMsg') return { role: 'agent', id: entry.entry.value.agentName };
  return { role: 'customer', id: customerName };
}

export function textOf(entry: ProtoEntry): string {
  if (entry.entry?.$case === 'agentMsg') return entry.entry.value.msg;
  return entry.entry?.value ?? '';
}

/** Whether `self` wrote the entry: the customer wrote every customer entry; an agent only its own. */
export function isOwnEntry(entry: ProtoEntry, self: Self): boolean {
  if (entry.entry?.$case === 'customerMsg') return self.role === 'customer';
  return self.role === 'agent' && entry.entry?.value.agentName === self.id;
}

export function toChatEntry(entry: ProtoEntry, customerName: string, self: Self): ChatEntry {
  return {
    author: authorOf(entry, customerName),
    text: textOf(entry),
    date: entry.date ?? new Date(),
    fromMe: isOwnEntry(entry, self),
  };
}

/** A live agent message to a customer, which comes without a date, as a protocol entry dated now. */
export function agentMessageEntry(message: AgentMessage): ProtoEntry {
  return { date: new Date(), entry: { $case: 'agentMsg', value: message } };
}
