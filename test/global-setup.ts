import { buildIfStale } from './setup/build-if-stale';
import { checkPostgres } from './setup/check-postgres';

/** Jest's global set-up: a fresh dist/ for the child-process suites, and whether PostgreSQL answers. */
export default async function globalSetup(): Promise<void> {
  buildIfStale();
  await checkPostgres();
}
