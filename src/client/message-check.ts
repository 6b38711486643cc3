import { status as Status } from '@grpc/grpc-js';
import { ChatClientError } from './chat-client-error';

/**
 * Why the server would refuse `text` (SPEC §6: 1 to max bytes of UTF-8, not only white space), or
 * undefined. Checked before sending because the server refuses a bad message by ending the whole
 * stream, which would cost a reconnect.
 */
export function refusalOf(text: string, maxBytes: number): ChatClientError | undefined {
  if (/^\p{White_Space}*$/u.test(text)) return new ChatClientError(Status.INVALID_ARGUMENT, 'a message needs more than white space');
  if (/[\uD800-\uDFFF]/u.test(text)) return new ChatClientError(Status.INVALID_ARGUMENT, 'a message must be valid Unicode (no lone surrogates)');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) return new ChatClientError(Status.INVALID_ARGUMENT, `a message may have at most ${maxBytes} bytes (this one has ${bytes})`);
  return undefined;
}
