import { once } from 'node:events';
import type { ExportSessionsRequest, ExportSessionsResponse } from '../../../gen/support/admin/v1/admin';
import { transcriptParts, type TranscriptSources } from '../../domain/transcript-export';
import type { AdminStreamBody } from './admin-call';
import { parseExportSessions } from './export-request';
import { formatPart } from './transcript-formats';

/** Characters gathered into one response (an entry's lines more at most): never a whole export. */
export const CHUNK_BYTES = 64 * 1024;

/**
 * ExportSessions: the transcripts in chunks of whole lines, each written when the one before has
 * been taken by the transport (grpc-js `write` returned true, or 'drain' came): the store is read
 * a page at a time as the client reads, so an export sits in memory a chunk and a page at a time.
 */
export function exportSessions(sources: TranscriptSources): AdminStreamBody<ExportSessionsRequest, ExportSessionsResponse> {
  return async (request, call, signal) => {
    const { selection, format } = parseExportSessions(request);
    let pending: string[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      const chunk = Buffer.from(pending.join(''), 'utf8');
      pending = [];
      pendingBytes = 0;
      if (!call.write({ chunk })) await drained(call, signal);
    };
    for await (const part of transcriptParts(sources, selection)) {
      if (signal.aborted) return; // the call has ended: stop reading
      for (const piece of formatPart(part, format)) {
        pending.push(piece);
        pendingBytes += piece.length;
        if (pendingBytes >= CHUNK_BYTES) await flush();
      }
    }
    if (pendingBytes > 0 && !signal.aborted) await flush();
  };
}

/** Resolves on 'drain', or when the call ends (its signal fires) without one. */
async function drained(call: NodeJS.EventEmitter, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  await once(call, 'drain', { signal }).catch(() => {});
}
