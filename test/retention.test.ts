import path from 'node:path';
import { openDatabase } from '../src/storage/open-database';
import { PostgresRetention } from '../src/storage/postgres/postgres-retention';
import { PostgresSessionStore } from '../src/storage/postgres/postgres-session-store';
import { SqliteRetention } from '../src/storage/sqlite-retention';
import { SqliteSessionStore } from '../src/storage/sqlite-session-store';
import { describeRetentionContract } from './contracts/retention-contract';
import { describeWithPostgres, migratedPool } from './helpers/postgres';
import { makeTempDir, removeTempDir } from './helpers/test-server';

describeRetentionContract('SQLite', async () => {
  const dir = makeTempDir();
  const { db } = openDatabase({ file: path.join(dir, 'support.db'), sync: 'normal' });
  const store = new SqliteSessionStore(db);
  return {
    store,
    retention: new SqliteRetention(db, store.housekeeping),
    close: async () => {
      db.close();
      removeTempDir(dir);
    },
  };
});

describeWithPostgres('PostgreSQL', () => {
  describeRetentionContract('PostgreSQL', async () => {
    const { pool, close } = await migratedPool();
    return { store: new PostgresSessionStore(pool), retention: new PostgresRetention(pool), close };
  });
});
