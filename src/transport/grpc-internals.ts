/**
 * grpc-js and @grpc/reflection have no public API for three things this server needs: the HTTP/2
 * servers (repeated `authorization` headers), a call's HTTP/2 stream (reset, status delivery) and
 * reflection's symbol tables (package-less names). So it reads their private fields. package.json
 * pins the exact versions whose shapes were checked, and every use checks the shape it relies on:
 * at start-up, failing it, where the shape exists then; on the first call otherwise.
 */

import fs from 'node:fs';

type Library = '@grpc/grpc-js' | '@grpc/reflection';

/** The error for a private field that is not what the pinned version has: says what, where and which version. */
export function internalsChanged(library: Library, what: string): Error {
  return new Error(`${library} ${installedVersion(library)} has changed: ${what}; this server reads it and was checked with the exact version pinned in package.json`);
}

/** The version of `library` that is installed, as its package.json says. */
export function installedVersion(library: Library): string {
  try {
    const manifest = JSON.parse(fs.readFileSync(require.resolve(`${library}/package.json`), 'utf8')) as { version?: unknown };
    return String(manifest.version);
  } catch {
    return '(version unknown)';
  }
}
