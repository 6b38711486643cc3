import { whyUnreachable } from '../../src/storage/postgres/postgres-connection';

/**
 * Does the PostgreSQL of SUPPORT_TEST_POSTGRES_URL (default the local server) answer? If not, the
 * PostgreSQL suites are skipped, with one line saying so and why; under CI=true that fails the run
 * instead (CI must prove both stores).
 */
export async function checkPostgres(): Promise<void> {
  const url = process.env.SUPPORT_TEST_POSTGRES_URL ?? 'postgres://127.0.0.1:5432/test';
  const reason = await whyUnreachable(url);
  if (!reason) return;
  if (process.env.CI === 'true') throw new Error(`PostgreSQL at ${url} does not answer (${reason}); CI needs it for the PostgreSQL suites`);
  process.env.SUPPORT_TEST_POSTGRES_MISSING = reason;
  process.stderr.write(`\nPostgreSQL suites NOT RUN: no PostgreSQL answers at ${url} (${reason}); set SUPPORT_TEST_POSTGRES_URL, or start it\n`);
}
