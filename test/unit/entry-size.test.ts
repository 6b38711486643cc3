import { Session } from '../../gen/support';
import { encodedHistoryEntrySize } from '../../src/transport/history-entry-size';
import type { Author } from '../../src/domain/entry';

/** The bytes one entry takes in an encoded Session, measured with the generated encoder. */
function measured(date: Date, author: Author, text: string): number {
  const entry =
    author.kind === 'customer'
      ? { date, entry: { $case: 'customerMsg' as const, value: text } }
      : { date, entry: { $case: 'agentMsg' as const, value: { agentName: author.agentId, msg: text } } };
  return Session.encode({ sessionId: '', customerName: '', history: [entry] }).finish().length;
}

describe('encodedHistoryEntrySize', () => {
  const dates = [new Date(0), new Date(1000), new Date(1), new Date('2026-11-26T15:00:00.123Z'), new Date('2100-01-01T00:00:00.999Z')];
  const authors: Author[] = [{ kind: 'customer' }, { kind: 'agent', agentId: 'agent-smith' }, { kind: 'agent', agentId: '' }];
  const texts = ['x', 'é', 'hello world', 'a'.repeat(127), 'a'.repeat(128), '€'.repeat(2731), 'b'.repeat(8192), '😀'.repeat(2048)];

  test.each(dates.flatMap((date) => authors.flatMap((author) => texts.map((text) => [date, author, text] as const))))(
    'matches the protobuf encoding (%p, %p, text of %#)',
    (date, author, text) => {
      expect(encodedHistoryEntrySize(date, author, text)).toBe(measured(date, author, text));
    },
  );
});
