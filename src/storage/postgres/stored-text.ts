/**
 * PostgreSQL's `text` cannot hold U+0000, which a message may contain (it is valid UTF-8 and a
 * valid proto3 string). Such a text, and any that starts with the marker, is stored as the marker
 * followed by its JSON form (where U+0000 is written `\u0000`); every other text as it is. The
 * mapping is one-to-one, and costs one scan of the text.
 */
const MARKER = '\u{F8FF}';

export function toStoredText(text: string): string {
  return text.includes('\u0000') || text.startsWith(MARKER) ? MARKER + JSON.stringify(text) : text;
}

export function fromStoredText(stored: string): string {
  return stored.startsWith(MARKER) ? (JSON.parse(stored.slice(MARKER.length)) as string) : stored;
}
