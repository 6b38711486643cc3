import { ChatError } from '../domain/chat-error';
import type { Entry, SessionSnapshot } from '../domain/entry';
import { Session } from '../../gen/support';
import type { EncodedHistoryCache } from './encoded-history-cache';
import { toChatEntry } from './proto-mapping';
import type { SliceScheduler } from './slice-scheduler';

/** Entries read and encoded per slice: a few hundred microseconds of work for one-line messages. */
const PAGE_ENTRIES = 256;
/** The reply to a join sets field 1 of both response messages: `session` / `accepted_session`. */
const SESSION_FIELD_TAG = (1 << 3) | 2;

/**
 * Encodes the reply to a join (`ChatCustomerResponse.session`, `ChatAgentResponse.accepted_session`:
 * the same bytes) without blocking other clients: the history is read and encoded a page at a
 * time, each page a slice of the shared scheduler, and what was encoded for an earlier join of the
 * same session is reused from the cache. The result is the bytes ts-proto would produce for the
 * whole response.
 */
export class SnapshotEncoder {
  constructor(
    private readonly scheduler: SliceScheduler,
    private readonly cache: EncodedHistoryCache,
  ) {}

  /** Drops what is kept of the session's encoded history (the session was erased). */
  forget(sessionId: string): void {
    this.cache.forget(sessionId);
  }

  /** The encoded response; rejects with `aborted` (stopping its reads) once `signal` aborts. */
  async encode(snapshot: SessionSnapshot, signal: AbortSignal): Promise<Uint8Array> {
    const { sessionId, lastSeq } = snapshot;
    const ready = this.cache.reply(sessionId, lastSeq);
    if (ready) return ready;
    const cached = this.cache.prefix(sessionId, lastSeq);
    const chunks = cached.chunks;
    for (let afterSeq = cached.lastSeq; afterSeq < lastSeq; ) {
      const page = await this.scheduler.run(() => (signal.aborted ? [] : snapshot.readHistory(afterSeq, PAGE_ENTRIES)));
      if (signal.aborted) throw new ChatError('aborted', 'the stream ended while its history was read');
      const pageLastSeq = page.at(-1)?.seq;
      if (pageLastSeq === undefined) throw new Error(`the history of ${sessionId} ends at ${afterSeq}, before ${lastSeq}`);
      const bytes = await this.scheduler.run(() => encodeHistoryFields(page));
      this.cache.append(sessionId, afterSeq, pageLastSeq, bytes);
      chunks.push(bytes);
      afterSeq = pageLastSeq;
    }
    return this.scheduler.run(() => {
      const { reply, historyOffset } = sessionResponse(snapshot, chunks);
      this.cache.keepReply(sessionId, lastSeq, reply, historyOffset);
      return reply;
    });
  }
}

/** The `history` fields of a Session message holding `entries`, concatenated. */
function encodeHistoryFields(entries: readonly Entry[]): Uint8Array {
  // Empty strings are not written in proto3: this is the repeated field alone.
  return Session.encode({ sessionId: '', customerName: '', history: entries.map(toChatEntry) }).finish();
}

/** Field 1 holding a Session with the snapshot's id and customer, and the history chunks in order; where the history starts in it. */
function sessionResponse(snapshot: SessionSnapshot, historyChunks: readonly Uint8Array[]): { reply: Uint8Array; historyOffset: number } {
  const header = Session.encode({ sessionId: snapshot.sessionId, customerName: snapshot.customerId, history: [] }).finish();
  const sessionLength = historyChunks.reduce((n, chunk) => n + chunk.length, header.length);
  const out = Buffer.allocUnsafe(1 + varintSize(sessionLength) + sessionLength);
  let at = 0;
  out[at++] = SESSION_FIELD_TAG;
  at = writeVarint(out, at, sessionLength);
  out.set(header, at);
  const historyOffset = (at += header.length);
  for (const chunk of historyChunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return { reply: out, historyOffset };
}

function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) size++;
  return size;
}

function writeVarint(out: Uint8Array, at: number, value: number): number {
  let rest = value;
  while (rest >= 0x80) {
    out[at++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  out[at++] = rest;
  return at;
}
