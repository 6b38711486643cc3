import type pg from 'pg';
import { unlessUnavailable } from './postgres-connection';

/**
 * The bytes the deployment's tables take, with their indexes and TOAST data: those of its schema
 * only, since one PostgreSQL database may hold other schemas and other applications.
 */
export async function postgresDatabaseBytes(pool: pg.Pool): Promise<number> {
  const { rows } = await unlessUnavailable(() =>
    pool.query<{ bytes: string | null }>(
      `SELECT sum(pg_total_relation_size(c.oid)) AS bytes
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')`,
    ),
  );
  return Number(rows[0]?.bytes ?? 0);
}
