/**
 * grpc-js and @grpc/reflection have no public API for three things this server needs: the HTTP/2
 * servers (repeated `authorization` headers), a call's HTTP/2 stream (reset, status delivery) and
 * reflection's symbol tables (package-less names). So it reads their private fields. package.json
 * pins the exact versions whose shapes were checked (CHECKED_VERSIONS), the server refuses to start
 * with any other (`requireCheckedVersions`), and every use checks the shape it relies on: at
 * start-up, failing it, where the shape exists then; on the first call otherwise.
 */

import fs from 'node:fs';

type Library = '@grpc/grpc-js' | '@grpc/reflection';

/**
 * The versions whose private fields were checked against this code (package.json pins exactly
 * these). To upgrade one: check every shape named in this folder's and server/'s uses of
 * `internalsChanged` against the new version, then change both.
 */
export const CHECKED_VERSIONS: Readonly<Record<Library, string>> = { '@grpc/grpc-js': '1.14.7', '@grpc/reflection': '1.0.4' };

/**
 * Throws, at start-up, if an installed library is not the version its private fields were checked
 * with: one of them (a call's HTTP/2 stream) can only be checked once a call has come in, too late
 * to refuse to start.
 */
export function requireCheckedVersions(installed: (library: Library) => string = installedVersion): void {
  for (const [library, checked] of Object.entries(CHECKED_VERSIONS) as [Library, string][]) {
    const version = installed(library);
    if (version !== checked) {
      throw new Error(`${library} ${version} is installed, but this server reaches into its private fields and was checked with ${checked} only (package.json pins it): run npm ci`);
    }
  }
}

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
