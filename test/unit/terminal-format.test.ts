// How the terminal apps print what others wrote: no control character reaches the terminal raw,
// and no message or name can pose as another entry or notice.
import fc from 'fast-check';
import type { ChatEntry } from '../../src/client';
import { ChatClientError } from '../../src/client/chat-client-error';
import { formatEntry, formatStateChange } from '../../src/cli/format';
import { oneLine, quoted, safeLines, shownName } from '../../src/text/untrusted-text';

const AT = new Date(2024, 0, 1, 12, 0, 0);

function entry(text: string, id = 'joe', fromMe = false): ChatEntry {
  return { author: { role: 'customer', id }, text, date: AT, fromMe };
}

/** Characters that act on a terminal or reorder a line: C0, DEL, C1, bidi controls, U+2028/9. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point: none may get through
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

describe('oneLine', () => {
  // Named, not printed: a raw test title would act on the terminal of whoever runs the tests.
  test.each([
    ['CSI: clear the screen, cursor home', '\x1b[2J\x1b[H', '\\x1b[2J\\x1b[H'],
    ['OSC 52: write the clipboard', '\x1b]52;c;cGlu\x07', '\\x1b]52;c;cGlu\\x07'],
    ['8-bit CSI (C1)', '\x9b31m', '\\x9b31m'],
    ['DEL and NUL', 'a\x7fb\x00c', 'a\\x7fb\\x00c'],
    ['tab', 'tab\there', 'tab\\there'],
    ['LF, CR LF, CR', 'one\ntwo\r\nthree\rfour', 'one\\ntwo\\r\\nthree\\rfour'],
    ['line and paragraph separators, NEL, VT, FF', '\u2028\u2029\x85\x0b\x0c', '\\u2028\\u2029\\x85\\x0b\\x0c'],
    ['a right-to-left override', 'pay \u202eredro', 'pay \\u202eredro'],
    ['bidi embeddings and isolates', '\u202a\u202b\u202c\u202d \u2066\u2067\u2068\u2069', '\\u202a\\u202b\\u202c\\u202d \\u2066\\u2067\\u2068\\u2069'],
  ])('escapes %s', (_what, raw, shown) => {
    expect(oneLine(raw)).toBe(shown);
  });

  test('leaves printable text alone: accents, right-to-left scripts, emoji with joiners, backslashes', () => {
    for (const text of ['Grüße, ça va?', 'שלום עולם', 'مرحبا', '👩‍💻 ok', 'C:\\Users\\joe', '\\x1b typed as text']) {
      expect(oneLine(text)).toBe(text);
    }
  });
});

describe('safeLines', () => {
  test('splits at LF, CR LF, CR and the Unicode line and paragraph separators', () => {
    expect(safeLines('a\nb\r\nc\rd\u2028e\u2029f')).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(safeLines('\n')).toEqual(['', '']);
  });
});

describe('quoted and shownName', () => {
  test('quoted escapes quotes and backslashes too, so the end of the text is never in doubt', () => {
    expect(quoted('say "hi"\\\n\x1b')).toBe('"say \\"hi\\"\\\\\\n\\x1b"');
  });

  test('plain ids are shown as they are', () => {
    expect(shownName('agent-smith')).toBe('agent-smith');
    expect(shownName('joe@example.com')).toBe('joe@example.com');
  });

  test('ids with white space, a colon, a quote or nothing at all are quoted; control characters are escaped', () => {
    expect(shownName('agent-boss: read me')).toBe('"agent-boss: read me"');
    expect(shownName('joe (you)')).toBe('"joe (you)"');
    expect(shownName('')).toBe('""');
    expect(shownName('a\nb')).toBe('"a\\nb"');
    expect(shownName('evil\x1b]52;c;eA==\x07')).toBe('evil\\x1b]52;c;eA==\\x07');
  });
});

describe('formatEntry', () => {
  test('a one-line message is `[HH:MM:SS] name: text`, with (you) on the user\'s own', () => {
    expect(formatEntry(entry('hello'))).toBe('[12:00:00] joe: hello');
    expect(formatEntry(entry('hello', 'joe', true))).toBe('[12:00:00] joe (you): hello');
  });

  test('further lines are indented under the header, so a forged header or notice stays inside the message', () => {
    const forged = 'ok\n[12:00:01] agent-boss: read me your PIN\r\n* session ended\rlast';
    expect(formatEntry(entry(forged)).split('\n')).toEqual([
      '[12:00:00] joe: ok',
      '           [12:00:01] agent-boss: read me your PIN',
      '           * session ended',
      '           last',
    ]);
  });

  test('escape sequences in the text and the name are shown escaped', () => {
    const printed = formatEntry(entry('\x1b[2J\x1b]52;c;cGlu\x07\u202eNIP', 'agent\x1b[31m-x'));
    expect(printed).toBe('[12:00:00] agent\\x1b[31m-x: \\x1b[2J\\x1b]52;c;cGlu\\x07\\u202eNIP');
  });

  test('a name that spells a header is quoted', () => {
    expect(formatEntry(entry('PIN?', 'agent-boss: read me your'))).toBe('[12:00:00] "agent-boss: read me your": PIN?');
  });

  test('whatever the text and name: no unsafe character, one header line, every other line indented', () => {
    const tricky = fc.constantFrom('\n', '\r', '\r\n', '\u2028', '\u2029', '\x1b', '\x9b', '\x07', '\u202e', '\u2066', '[12:00:01] ', '*', ': ', ' ', '"');
    const text = fc.array(fc.oneof(tricky, fc.string({ unit: 'binary' })), { maxLength: 12 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, text, fc.boolean(), (message, name, fromMe) => {
        const [header, ...more] = formatEntry(entry(message, name, fromMe)).split('\n');
        expect(header).toMatch(/^\[12:00:00\] /);
        for (const line of more) expect(line).toMatch(/^ {11}/);
        expect(more).toHaveLength(safeLines(message).length - 1);
        expect(UNSAFE.test([header, ...more].join(''))).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe('formatStateChange', () => {
  test('error details and unsent messages in notices are escaped, on one line', () => {
    const error = new ChatClientError(14, 'bad\nnews \x1b[2J');
    const reconnecting = formatStateChange({ kind: 'reconnecting', attempt: 1, delayMs: 50, cause: error }, { kind: 'connected', sessionId: 's' });
    expect(reconnecting).toBe('* connection lost (bad\\nnews \\x1b[2J); reconnecting…');
    const closed = formatStateChange(
      { kind: 'closed', reason: { kind: 'gave-up', error, unsent: ['a\n* b'], unconfirmed: ['\u202ec'] } },
      { kind: 'reconnecting', attempt: 3, delayMs: 50, cause: error },
    );
    expect(closed).toBe('* disconnected: gave up reconnecting (bad\\nnews \\x1b[2J); not sent: "a\\n* b"; maybe not delivered: "\\u202ec"');
  });
});
