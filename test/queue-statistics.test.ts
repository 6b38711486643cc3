import path from 'node:path';
import { openDatabase } from '../src/storage/open-database';
import { PostgresQueueStatistics } from '../src/storage/postgres/postgres-queue-statistics';
import { PostgresSessionStore } from '../src/storage/postgres/postgres-session-store';
import { SqliteQueueStatistics } from '../src/storage/sqlite-queue-statistics';
import { SqliteSessionStore } from '../src/storage/sqlite-session-store';
import { describeQueueStatisticsContract } from './contracts/queue-statistics-contract';
import { describeWithPostgres, migratedPool } from './helpers/postgres';
import { makeTempDir, removeTempDir } from './helpers/test-server';

describeQueueStatisticsContract('SQLite', async () => {
  const dir = makeTempDir();
  const { db } = openDatabase({ file: path.join(dir, 'support.db'), sync: 'normal' });
  return {
    store: new SqliteSessionStore(db),
    statistics: new SqliteQueueStatistics(db),
    close: async () => {
      db.close();
      removeTempDir(dir);
    },
  };
});

describeWithPostgres('PostgreSQL', () => {
  describeQueueStatisticsContract('PostgreSQL', async () => {
    const { pool, close } = await migratedPool();
    return { store: new PostgresSessionStore(pool), statistics: new PostgresQueueStatistics(pool), close };
  });
});
