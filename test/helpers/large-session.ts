import type { Author } from '../../src/domain/entry';
import { encodedHistoryEntrySize } from '../../src/transport/history-entry-size';
import { openDatabase } from '../../src/storage/open-database';
import { SqliteSessionStore } from '../../src/storage/sqlite-session-store';

/**
 * Writes a session of `entries` entries (customer and agent in turn, texts from `textOf`) into the
 * SQLite database `dbFile`, through the real store, before a server opens it: far quicker than
 * sending them over gRPC. Returns the session's id.
 */
export async function writeLargeSession(dbFile: string, customerId: string, entries: number, textOf: (i: number) => string): Promise<string> {
  const { db } = openDatabase({ file: dbFile, sync: 'normal' });
  const store = new SqliteSessionStore(db);
  const sessionId = `large-${customerId}`;
  await store.createSession(sessionId, customerId, new Date(), 1_000);
  const limits = { maxBytes: 2 ** 40, maxEntries: 2 ** 40 };
  const agent: Author = { kind: 'agent', agentId: 'agent-old' };
  for (let done = 0; done < entries; ) {
    const batch: Promise<unknown>[] = [];
    for (const end = Math.min(entries, done + 5_000); done < end; done++) {
      const author: Author = done % 2 === 0 ? { kind: 'customer' } : agent;
      const text = textOf(done);
      batch.push(store.appendEntry(sessionId, { author, text, origin: 'test', encodedSize: (date) => encodedHistoryEntrySize(date, author, text) }, new Date(), limits));
    }
    await Promise.all(batch);
  }
  store.close();
  return sessionId;
}
