import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { connectionConfig, createPool, quoteIdentifier } from '../../src/storage/postgres/postgres-connection';
import { migratePostgres } from '../../src/storage/postgres/postgres-migrations';

/** The PostgreSQL server the PostgreSQL suites run against. */
export const POSTGRES_URL = process.env.SUPPORT_TEST_POSTGRES_URL ?? 'postgres://127.0.0.1:5432/test';

/** Set by the global set-up (test/global-setup.ts) when no PostgreSQL answers outside CI: why the suites are skipped. */
export const POSTGRES_MISSING = process.env.SUPPORT_TEST_POSTGRES_MISSING;

/** `describe`, or `describe.skip` when no PostgreSQL answers (the global set-up has said so once). */
export const describeWithPostgres: jest.Describe = POSTGRES_MISSING ? describe.skip : describe;

/** A schema of its own for one test, dropped by `drop`; `url` and `schema` are what a server takes. */
export type TestSchema = Readonly<{ url: string; schema: string; drop: () => Promise<void> }>;

export async function freshSchema(): Promise<TestSchema> {
  const schema = `support_test_${randomBytes(6).toString('hex')}`;
  return {
    url: POSTGRES_URL,
    schema,
    drop: async () => {
      const client = new pg.Client(connectionConfig({ url: POSTGRES_URL, schema: 'public' }));
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A fresh, migrated schema and a pool of connections to it; `close` ends the pool and drops the schema. */
export async function migratedPool(size = 4): Promise<{ pool: pg.Pool; schema: TestSchema; close: () => Promise<void> }> {
  const schema = await freshSchema();
  const pool = createPool({ url: schema.url, schema: schema.schema }, size);
  await migratePostgres(pool, schema.schema);
  return {
    pool,
    schema,
    close: async () => {
      await pool.end();
      await schema.drop();
    },
  };
}
