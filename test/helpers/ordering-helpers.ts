import type { SupportClient, ChatAgentResponse, ChatCustomerResponse, ChatEntry, Session } from '../../gen/support';
import { AgentStream, CustomerStream } from './chat-client';

/** `author: text` of a ChatEntry (the author is `customer` or the agent's id). */
export function entryText(entry: ChatEntry): string {
  const e = entry.entry;
  if (e?.$case === 'customerMsg') return `customer: ${e.value}`;
  if (e?.$case === 'agentMsg') return `${e.value.agentName}: ${e.value.msg}`;
  return `(empty entry ${JSON.stringify(entry)})`;
}

/** `author: text @ date-in-ms` of a ChatEntry, for comparisons that include the date. */
export function entryWithDate(entry: ChatEntry): string {
  return `${entryText(entry)} @${entry.date ? entry.date.getTime() : 'no date'}`;
}

/** The author of an entry: `customer` or the agent's id. */
export function authorOf(entry: ChatEntry): string {
  return entry.entry?.$case === 'agentMsg' ? entry.entry.value.agentName : 'customer';
}

/** The ChatEntries an agent stream received live (its `msg` responses), in order of arrival. */
export function liveEntries(responses: readonly ChatAgentResponse[]): ChatEntry[] {
  return responses.flatMap((r) => (r.resp?.$case === 'msg' ? [r.resp.value] : []));
}

/** The agent messages a customer stream received live, as `agent: text`, in order of arrival. */
export function liveAgentMessages(responses: readonly ChatCustomerResponse[]): string[] {
  return responses.flatMap((r) => (r.resp?.$case === 'msg' ? [`${r.resp.value.agentName}: ${r.resp.value.msg}`] : []));
}

/** The accepted_session replies an agent stream received. */
export function acceptedSessions(responses: readonly ChatAgentResponse[]): Session[] {
  return responses.flatMap((r) => (r.resp?.$case === 'acceptedSession' ? [r.resp.value] : []));
}

/** The session replies a customer stream received. */
export function customerSessions(responses: readonly ChatCustomerResponse[]): Session[] {
  return responses.flatMap((r) => (r.resp?.$case === 'session' ? [r.resp.value] : []));
}

/** Lets the event loop run once (other streams, the in-process server); not a timed sleep. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The full history of `sessionId`, read by a fresh agent stream that accepts it and half-closes. */
export async function historyViaNewAgent(client: SupportClient, sessionId: string, agentId = 'agent-history-reader'): Promise<Session> {
  const reader = new AgentStream(client, agentId);
  try {
    return await reader.accept(sessionId);
  } finally {
    reader.end();
    await reader.ended().catch(() => undefined);
  }
}

/** Creates `count` open sessions, one customer stream each (customers `${prefix}-0`, ...), in order. */
export async function createSessions(client: SupportClient, count: number, prefix = 'cust'): Promise<{ streams: CustomerStream[]; ids: string[] }> {
  const streams: CustomerStream[] = [];
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const stream = new CustomerStream(client, `${prefix}-${i}`);
    streams.push(stream);
    ids.push((await stream.init()).sessionId);
  }
  return { streams, ids };
}
