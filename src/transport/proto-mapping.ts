import type { AgentOutput } from '../domain/agent-conversation';
import type { CustomerOutput } from '../domain/customer-conversation';
import type { Entry } from '../domain/entry';
import { Void, type ChatAgentResponse, type ChatCustomerResponse, type ChatEntry } from '../../gen/support';

/** A customer stream's domain output as its wire response (the session snapshot: see snapshot-encoder.ts). */
export function toCustomerResponse(output: CustomerOutput): ChatCustomerResponse {
  return { resp: { $case: 'msg', value: { agentName: agentIdOf(output.entry), msg: output.entry.text } } };
}

/** An agent stream's domain output as its wire response (the session snapshot: see snapshot-encoder.ts). */
export function toAgentResponse(output: AgentOutput): ChatAgentResponse {
  switch (output.kind) {
    case 'entry':
      return { resp: { $case: 'msg', value: toChatEntry(output.entry) } };
    case 'session-ended':
      return { resp: { $case: 'sessionEnded', value: Void.VOID } };
  }
}

/** An entry as a history entry of a Session, or an agent's live `msg`. */
export function toChatEntry(entry: Entry): ChatEntry {
  return entry.author.kind === 'customer'
    ? { date: entry.date, entry: { $case: 'customerMsg', value: entry.text } }
    : { date: entry.date, entry: { $case: 'agentMsg', value: { agentName: entry.author.agentId, msg: entry.text } } };
}

function agentIdOf(entry: Entry): string {
  return entry.author.kind === 'agent' ? entry.author.agentId : '';
}
