import type { SessionEvent } from '../../src/domain/event-bus';
import { SequencedDelivery } from '../../src/domain/sequenced-delivery';

const entry = (seq: number): SessionEvent => ({
  kind: 'entry',
  sessionId: 's',
  seq,
  origin: 'i.1',
  entry: { seq, date: new Date(0), author: { kind: 'customer' }, text: `m${seq}` },
});

function delivery() {
  const delivered: number[] = [];
  return { delivered, sut: new SequencedDelivery((event) => delivered.push(event.seq)) };
}

describe('SequencedDelivery', () => {
  test('holds events until start, then drops those in the snapshot and delivers the rest in order', () => {
    const { delivered, sut } = delivery();
    [3, 4, 5].forEach((seq) => sut.offer(entry(seq)));
    expect(delivered).toEqual([]);
    sut.start(3);
    expect(delivered).toEqual([4, 5]);
  });

  test('an event ahead of a missing one waits for it', () => {
    const { delivered, sut } = delivery();
    sut.start(0);
    sut.offer(entry(2));
    sut.offer(entry(3));
    expect(delivered).toEqual([]);
    sut.offer(entry(1));
    expect(delivered).toEqual([1, 2, 3]);
  });

  test('duplicates are delivered once', () => {
    const { delivered, sut } = delivery();
    sut.start(0);
    [1, 1, 2, 1, 2].forEach((seq) => sut.offer(entry(seq)));
    expect(delivered).toEqual([1, 2]);
  });

  test('the end of a session comes after the last entry, whatever order they arrive in', () => {
    const delivered: string[] = [];
    const sut = new SequencedDelivery((event) => delivered.push(`${event.kind}:${event.seq}`));
    sut.start(1);
    sut.offer({ kind: 'ended', sessionId: 's', seq: 3 });
    sut.offer(entry(2));
    expect(delivered).toEqual(['entry:2', 'ended:3']);
  });
});
