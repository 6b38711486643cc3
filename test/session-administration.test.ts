import path from 'node:path';
import { openDatabase } from '../src/storage/open-database';
import { PostgresSessionAdministration } from '../src/storage/postgres/postgres-session-administration';
import { PostgresSessionStore } from '../src/storage/postgres/postgres-session-store';
import { SqliteSessionAdministration } from '../src/storage/sqlite-session-administration';
import { SqliteSessionStore } from '../src/storage/sqlite-session-store';
import { describeSessionAdministrationContract } from './contracts/session-administration-contract';
import { describeWithPostgres, migratedPool } from './helpers/postgres';
import { makeTempDir, removeTempDir } from './helpers/test-server';

describeSessionAdministrationContract('SQLite', async () => {
  const dir = makeTempDir();
  const { db } = openDatabase({ file: path.join(dir, 'support.db'), sync: 'normal' });
  const store = new SqliteSessionStore(db);
  return {
    store,
    administration: new SqliteSessionAdministration(db, store.housekeeping),
    close: async () => {
      store.close();
      removeTempDir(dir);
    },
  };
});

describeWithPostgres('PostgreSQL', () => {
  describeSessionAdministrationContract('PostgreSQL', async () => {
    const { pool, close } = await migratedPool();
    return { store: new PostgresSessionStore(pool), administration: new PostgresSessionAdministration(pool), close };
  });
});
