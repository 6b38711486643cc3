import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where a PostgreSQL installation keeps initdb and pg_ctl (Debian's layout). */
const BIN = fs.existsSync('/usr/lib/postgresql') ? path.join('/usr/lib/postgresql', fs.readdirSync('/usr/lib/postgresql').sort().at(-1) ?? '', 'bin') : '';

/** A PostgreSQL server of one test's own, that the test may stop and start (a crash with `immediate`). */
export type PrivatePostgres = Readonly<{
  url: string;
  stop: (mode: 'fast' | 'immediate') => void;
  start: () => void;
  remove: () => void;
}>;

/**
 * Why a private PostgreSQL cannot be made here, or undefined if it can: it needs initdb and pg_ctl,
 * and, run as root, the `postgres` system user to run them (PostgreSQL refuses to run as root).
 */
export function privatePostgresUnavailable(): string | undefined {
  if (!BIN || !fs.existsSync(path.join(BIN, 'initdb'))) return 'no PostgreSQL installation with initdb';
  if (process.getuid?.() === 0) {
    try {
      execFileSync('id', ['postgres'], { stdio: 'ignore' });
    } catch {
      return 'running as root without a postgres user';
    }
  }
  return undefined;
}

/** Creates and starts a PostgreSQL cluster in a temporary folder, on a free port, trust auth for the current user. */
export function startPrivatePostgres(port: number): PrivatePostgres {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'support-pg-'));
  const asRoot = process.getuid?.() === 0;
  const run = (tool: string, args: string[]) => {
    const command = asRoot ? 'runuser' : path.join(BIN, tool);
    const argv = asRoot ? ['-u', 'postgres', '--', path.join(BIN, tool), ...args] : args;
    execFileSync(command, argv, { stdio: 'ignore' });
  };
  if (asRoot) fs.chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  const user = os.userInfo().username;
  run('initdb', ['-D', path.join(dir, 'data'), '-A', 'trust', '-U', user, '--no-sync']);
  const start = () => run('pg_ctl', ['-D', path.join(dir, 'data'), '-l', path.join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, '-w', 'start']);
  start();
  return {
    url: `postgres://${user}@127.0.0.1:${port}/postgres`,
    stop: (mode) => run('pg_ctl', ['-D', path.join(dir, 'data'), '-m', mode, '-w', 'stop']),
    start,
    remove: () => {
      try {
        run('pg_ctl', ['-D', path.join(dir, 'data'), '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
