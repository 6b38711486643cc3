import pg from 'pg';
import { connectionConfig } from '../../src/storage/postgres/postgres-connection';

/**
 * Does the PostgreSQL of SUPPORT_TEST_POSTGRES_URL (default the local server) answer? If not, the
 * PostgreSQL suites are skipped, with one line saying so and why; under CI=true that fails the run
 * instead (CI must prove both stores).
 */
export async function checkPostgres(): Promise<void> {
  const url = process.env.SUPPORT_TEST_POSTGRES_URL ?? 'postgres://127.0.0.1:5432/test';
  const reason = await unreachable(url);
  if (!reason) return;
  if (process.env.CI === 'true') throw new Error(`PostgreSQL at ${url} does not answer (${reason}); CI needs it for the PostgreSQL suites`);
  process.env.SUPPORT_TEST_POSTGRES_MISSING = reason;
  process.stderr.write(`\nPostgreSQL suites NOT RUN: no PostgreSQL answers at ${url} (${reason}); set SUPPORT_TEST_POSTGRES_URL, or start it\n`);
}

async function unreachable(url: string): Promise<string | undefined> {
  const client = new pg.Client({ ...connectionConfig({ url, schema: 'public' }), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}
