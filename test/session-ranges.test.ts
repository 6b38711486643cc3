import path from 'node:path';
import { openDatabase } from '../src/storage/open-database';
import { PostgresSessionRanges } from '../src/storage/postgres/postgres-session-ranges';
import { PostgresSessionStore } from '../src/storage/postgres/postgres-session-store';
import { SqliteSessionRanges } from '../src/storage/sqlite-session-ranges';
import { SqliteSessionStore } from '../src/storage/sqlite-session-store';
import { describeSessionRangesContract } from './contracts/session-ranges-contract';
import { describeWithPostgres, migratedPool } from './helpers/postgres';
import { makeTempDir, removeTempDir } from './helpers/test-server';

describeSessionRangesContract('SQLite', async () => {
  const dir = makeTempDir();
  const { db } = openDatabase({ file: path.join(dir, 'support.db'), sync: 'normal' });
  const store = new SqliteSessionStore(db);
  return {
    store,
    ranges: new SqliteSessionRanges(db, store.housekeeping),
    close: async () => {
      store.close();
      removeTempDir(dir);
    },
  };
});

describeWithPostgres('PostgreSQL', () => {
  describeSessionRangesContract('PostgreSQL', async () => {
    const { pool, close } = await migratedPool();
    return { store: new PostgresSessionStore(pool), ranges: new PostgresSessionRanges(pool), close };
  });
});
