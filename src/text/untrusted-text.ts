/**
 * Text the terminal apps did not write themselves (the other party's messages, names, the server's
 * error details) made safe to print: it must neither drive the reader's terminal nor pose as a
 * line the app printed.
 *
 * Characters that act on a terminal or on the order of a line are shown as escapes: C0 controls,
 * DEL and C1 controls as `\xHH` (`\t`, `\n` and `\r` by those names), the bidi embeddings,
 * overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the line and paragraph separators
 * (U+2028, U+2029) as `\uHHHH`, hex in lower case. So ESC, which starts every CSI and OSC
 * sequence (cursor moves, screen clears, OSC 52 writing the clipboard), shows as `\x1b`, and a
 * right-to-left override as `\u202e`. Backslashes are left as they are: a message may spell
 * `\x1b` in plain characters, which looks the same as an escaped ESC and is as harmless.
 */

/** Characters never written to the terminal as they are. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point: they are escaped
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/** Line breaks of a message: CR LF, LF, CR and Unicode's line and paragraph separators. */
const LINE_BREAK = /\r\n|[\n\r\u2028\u2029]/;

const NAMED: Readonly<Record<string, string>> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** `text` on one line, every unsafe character (line breaks included) escaped. */
export function oneLine(text: string): string {
  return text.replace(UNSAFE, escapeOf);
}

/** The lines of a multi-line text, each made safe; the caller indents all but the first. */
export function safeLines(text: string): string[] {
  return text.split(LINE_BREAK).map(oneLine);
}

/** `text` in double quotes, with `"` and `\` escaped as well, so that where it ends is never in doubt. */
export function quoted(text: string): string {
  return `"${oneLine(text.replace(/[\\"]/g, (c) => `\\${c}`))}"`;
}

/**
 * A user id as shown before a message or in a notice. Ids are untrusted (a JWT `sub` may hold any
 * printable text): one with white space, a colon or a quote, or an empty one, is quoted, so that
 * `agent-boss: read me` or `joe (you)` can never pass for the app's own punctuation.
 */
export function shownName(name: string): string {
  return name === '' || /[\s:"\\]/u.test(name) ? quoted(name) : oneLine(name);
}

function escapeOf(char: string): string {
  const named = NAMED[char];
  if (named) return named;
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}
