import { reuseLastResult } from '../../src/transport/reuse-last-result';

describe('reuseLastResult', () => {
  it('computes once for the same object asked for in a row, again for any other', () => {
    const computed: string[] = [];
    const upper = reuseLastResult((box: { text: string }) => {
      computed.push(box.text);
      return box.text.toUpperCase();
    });
    const a = { text: 'a' };
    const b = { text: 'b' };
    expect([upper(a), upper(a), upper(a)]).toEqual(['A', 'A', 'A']);
    expect(upper(b)).toBe('B');
    expect(upper({ text: 'b' })).toBe('B'); // an equal but different object is computed again
    expect(upper(a)).toBe('A');
    expect(computed).toEqual(['a', 'b', 'b', 'a']);
  });

  it('remembers nothing from a call that threw', () => {
    let fail = true;
    const f = reuseLastResult((box: { n: number }) => {
      if (fail) throw new Error('no');
      return box.n * 2;
    });
    const box = { n: 2 };
    expect(() => f(box)).toThrow('no');
    fail = false;
    expect(f(box)).toBe(4);
  });
});
