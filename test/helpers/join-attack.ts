import type { SupportClient } from '../../gen/support';
import { AgentStream, type CustomerStream } from './chat-client';
import { agentTexts } from './robustness-monitor';
import { waitFor } from './wait';

/**
 * The join attack of the memory budget tests: `attackers` agents, each on a connection of its own
 * (from `connect`), stop reading, then ask for the session's history `rounds` times (10 agent ids:
 * each within --max-streams-per-user). Returns their streams, to cancel at the end.
 */
export function stallJoiners(connect: () => SupportClient, sessionId: string, attackers: number, rounds: number): AgentStream[] {
  return Array.from({ length: attackers }, (_, i) => {
    const stream = new AgentStream(connect(), `agent-attacker-${i % 10}`);
    stream.call.pause();
    for (let round = 0; round < rounds; round++) {
      stream.sendAccept(sessionId);
      stream.leave();
    }
    return stream;
  });
}

/** Meanwhile the customer keeps talking, one message every 20 ms; waits until `reader` has them all and returns their texts as `reader` got them. */
export async function talkThroughAttack(customer: CustomerStream, reader: AgentStream, messages: number): Promise<{ got: string[]; sent: string[] }> {
  for (let i = 0; i < messages; i++) {
    customer.send(`side ${i}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const sideTexts = () => agentTexts(reader).filter((t) => t.startsWith('customer: side '));
  await waitFor(() => sideTexts().length === messages, 30_000, 'the reader to get every side message');
  return { got: sideTexts(), sent: Array.from({ length: messages }, (_, i) => `customer: side ${i}`) };
}
