import os from 'node:os';
import pg from 'pg';
import { ChatError } from '../../domain/chat-error';

/** Where the deployment's data lives: a libpq-style URL and the schema of its tables. */
export type PostgresLocation = Readonly<{ url: string; schema: string }>;

/**
 * The settings of a connection to `location`: the URL as libpq reads it (host, port, database,
 * user, password, sslmode...; the password may also come from PGPASSWORD), the user name defaulting
 * to the system user's as with libpq, and every connection working in the location's schema.
 */
export function connectionConfig(location: PostgresLocation): pg.ClientConfig {
  const url = new URL(location.url);
  // node-postgres reads the user from the URL over any other setting, and has no default of its own
  // without $USER: put it into the URL.
  if (!url.username) url.username = encodeURIComponent(process.env.PGUSER || process.env.USER || os.userInfo().username);
  return {
    connectionString: url.toString(),
    options: `-c search_path=${quoteIdentifier(location.schema)}`,
    // A query that cannot reach the database fails in seconds, not after the OS gives up.
    connectionTimeoutMillis: 5_000,
  };
}

/** A pool of connections to `location` (see connectionConfig). */
export function createPool(location: PostgresLocation, size: number): pg.Pool {
  const pool = new pg.Pool({ ...connectionConfig(location), max: size, idleTimeoutMillis: 30_000 });
  // An idle connection that the database drops (a restart) is an error event on the pool: the
  // pool replaces it, and the next query says what is wrong.
  pool.on('error', () => {});
  return pool;
}

/** `name` as a quoted SQL identifier. */
/** Whether the PostgreSQL at `url` answers a query within 3 s: undefined if it does, why not otherwise (tests and the bench check before they start). */
export async function whyUnreachable(url: string): Promise<string | undefined> {
  const client = new pg.Client({ ...connectionConfig({ url, schema: 'public' }), connectionTimeoutMillis: 3_000 });
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

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The URL without its password, for logs. */
export function redactedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/**
 * Whether `error` says the database cannot be reached or is going away (no connection, a
 * connection cut, the server shutting down or starting), as opposed to a query that failed:
 * those become UNAVAILABLE, and clients retry.
 */
export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)$/.test(code)) return true;
    // SQLSTATE: 08 connection exception, 57P01-57P03 shutdown / cannot connect now, 53300 too many connections.
    if (/^(08...|57P0[123]|53300)$/.test(code)) return true;
  }
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i.test(error.message);
}

/** Runs `query`, turning "the database is unreachable" into a ChatError('unavailable'). */
export async function unlessUnavailable<T>(query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (error) {
    if (isUnavailable(error)) throw new ChatError('unavailable', 'the database is unavailable; try again shortly');
    throw error;
  }
}
