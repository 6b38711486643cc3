import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { ServerWritableStream } from '@grpc/grpc-js';
import { ExportFormat, type ExportSessionsRequest, type ExportSessionsResponse } from '../gen/support/admin/v1/admin';
import type { TranscriptSources } from '../src/domain/transcript-export';
import { openDatabase } from '../src/storage/open-database';
import { SqliteSessionAdministration } from '../src/storage/sqlite-session-administration';
import { SqliteSessionRanges } from '../src/storage/sqlite-session-ranges';
import { SqliteSessionStore } from '../src/storage/sqlite-session-store';
import { CHUNK_BYTES, exportSessions } from '../src/transport/admin/export-sessions';
import { writeLargeSession } from './helpers/large-session';
import { makeTempDir, removeTempDir } from './helpers/test-server';
import { waitFor } from './helpers/wait';

// An export waits for its client: while the transport has not taken the last chunk ('drain'), it
// reads nothing more from the store. Run against a real database; the call is a stand-in whose
// write() reports a full transport until the test says 'drain'.

const ENTRIES = 4_000;
const TEXT = (i: number) => `${i} ${'x'.repeat(1000)}`;

/** A call whose transport is always full: every write returns false, and 'drain' comes when the test emits it. */
class FullTransport extends EventEmitter {
  readonly chunks: Buffer[] = [];
  write(response: ExportSessionsResponse): boolean {
    this.chunks.push(Buffer.from(response.chunk));
    return false;
  }
}

test('an export of a large session reads a page of its history at a time, and none while its client has not taken the last chunk', async () => {
  const dir = makeTempDir();
  const file = path.join(dir, 'support.db');
  const sessionId = await writeLargeSession(file, 'joe', ENTRIES, TEXT);
  const { db } = openDatabase({ file, sync: 'normal' });
  const store = new SqliteSessionStore(db);
  try {
    let pagesRead = 0;
    const sources: TranscriptSources = {
      store: { readHistory: (...args) => (pagesRead++, store.readHistory(...args)) },
      administration: new SqliteSessionAdministration(db, store.housekeeping),
      ranges: new SqliteSessionRanges(db, store.housekeeping),
    };
    const call = new FullTransport();
    const request: ExportSessionsRequest = { selection: { $case: 'sessionId', value: sessionId }, format: ExportFormat.EXPORT_FORMAT_JSON_LINES };
    let done = false;
    const running = exportSessions(sources)(request, call as unknown as ServerWritableStream<ExportSessionsRequest, ExportSessionsResponse>, new AbortController().signal, { userId: 'admin-ops', role: 'admin' } as never);
    void running.then(() => (done = true));
    let drains = 0;
    while (!done) {
      const written = call.chunks.length;
      await waitFor(() => call.chunks.length > written || done, 5000, 'the next chunk');
      if (done) break;
      // Blocked on 'drain': many turns of the event loop read nothing more.
      const pagesBefore = pagesRead;
      for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(pagesRead).toBe(pagesBefore);
      expect(call.chunks).toHaveLength(written + 1);
      drains++;
      call.emit('drain');
    }
    await running;
    const lines = Buffer.concat(call.chunks).toString('utf8').split('\n').filter(Boolean);
    expect(lines.map((line) => (JSON.parse(line) as { text: string }).text)).toEqual(Array.from({ length: ENTRIES }, (_, i) => TEXT(i)));
    // Each chunk is about CHUNK_BYTES (one entry's line past it at most): the export was never in one piece.
    for (const chunk of call.chunks) expect(chunk.length).toBeLessThan(CHUNK_BYTES + 1200);
    expect(call.chunks.length).toBeGreaterThanOrEqual(Math.floor((ENTRIES * 1000) / CHUNK_BYTES));
    expect(drains).toBe(call.chunks.length); // the last one too: the call ends once it is taken
    expect(pagesRead).toBe(Math.ceil(ENTRIES / 500));
  } finally {
    store.close();
    removeTempDir(dir);
  }
});
