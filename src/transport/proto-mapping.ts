import type { AgentOutput } from '../domain/agent-conversation';
import type { CustomerOutput } from '../domain/customer-conversation';
import type { Entry, SessionSnapshot } from '../domain/entry';
import { Void, type ChatAgentResponse, type ChatCustomerResponse, type ChatEntry, type Session } from '../../gen/support';

/** A customer stream's domain output as its wire response. */
export function toCustomerResponse(output: CustomerOutput): ChatCustomerResponse {
  switch (output.kind) {
    case 'session':
      return { resp: { $case: 'session', value: toSession(output.session) } };
    case 'agent-message':
      return { resp: { $case: 'msg', value: { agentName: agentIdOf(output.entry), msg: output.entry.text } } };
  }
}

/** An agent stream's domain output as its wire response. */
export function toAgentResponse(output: AgentOutput): ChatAgentResponse {
  switch (output.kind) {
    case 'session':
      return { resp: { $case: 'acceptedSession', value: toSession(output.session) } };
    case 'entry':
      return { resp: { $case: 'msg', value: toChatEntry(output.entry) } };
    case 'session-ended':
      return { resp: { $case: 'sessionEnded', value: Void.VOID } };
  }
}

function toSession(snapshot: SessionSnapshot): Session {
  return { sessionId: snapshot.sessionId, customerName: snapshot.customerId, history: snapshot.history.map(toChatEntry) };
}

function toChatEntry(entry: Entry): ChatEntry {
  return entry.author.kind === 'customer'
    ? { date: entry.date, entry: { $case: 'customerMsg', value: entry.text } }
    : { date: entry.date, entry: { $case: 'agentMsg', value: { agentName: entry.author.agentId, msg: entry.text } } };
}

function agentIdOf(entry: Entry): string {
  return entry.author.kind === 'agent' ? entry.author.agentId : '';
}
