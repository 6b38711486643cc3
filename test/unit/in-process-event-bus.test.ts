import { InProcessEventBus } from '../../src/bus/in-process-event-bus';
import type { SessionEvent } from '../../src/domain/event-bus';
import { describeEventBusContract } from '../contracts/event-bus-contract';

describeEventBusContract('in-process', async () => {
  const lastSeq = new Map<string, number>();
  const next = (sessionId: string) => {
    const seq = (lastSeq.get(sessionId) ?? 0) + 1;
    lastSeq.set(sessionId, seq);
    return seq;
  };
  return {
    instances: [new InProcessEventBus(() => {})],
    createSession: async (sessionId) => void lastSeq.set(sessionId, 0),
    commitEntry: async (sessionId, text, origin): Promise<SessionEvent> => {
      const seq = next(sessionId);
      return { kind: 'entry', sessionId, seq, origin, entry: { seq, date: new Date(seq), author: { kind: 'customer' }, text } };
    },
    commitEnd: async (sessionId): Promise<SessionEvent> => ({ kind: 'ended', sessionId, seq: (lastSeq.get(sessionId) ?? 0) + 1 }),
    close: async () => {},
  };
});
