import { spawn } from 'node:child_process';
import path from 'node:path';
import { spawnApp, type TerminalApp } from './terminal-app';

/** The built admin command line (jest's global set-up builds dist/ when it is stale). */
export const ADMIN_APP = path.resolve(__dirname, '..', '..', 'dist', 'src', 'cli', 'admin-app.js');

export type AdminRun = Readonly<{ code: number | string; stdout: string; stderr: string }>;

/** Runs the admin command line to its end: its exit code and what it printed. */
export function runAdmin(args: string[]): Promise<AdminRun> {
  const child = spawn(process.execPath, [ADMIN_APP, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  return new Promise((resolve) =>
    child.on('close', (code, signal) => resolve({ code: code ?? signal ?? 'unknown', stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') })),
  );
}

/** Starts the admin command line for a command that runs until stopped (watch). */
export function startAdmin(args: string[]): TerminalApp {
  return spawnApp(ADMIN_APP, args);
}
