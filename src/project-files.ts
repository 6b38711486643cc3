import fs from 'node:fs';
import path from 'node:path';

/**
 * A file or folder of the project (`migrations`, `gen/support.binpb`). This module is
 * `src/project-files.ts` when tests run the sources and `dist/src/project-files.js` in the build,
 * so the project's root is one or two folders up; only those two are looked in, so a copy of the
 * built server needs no package.json, and a folder of that name further up is never taken instead.
 */
export function projectPath(...segments: string[]): string {
  const above = path.resolve(__dirname, '..');
  for (const root of [above, path.dirname(above)]) {
    const candidate = path.join(root, ...segments);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`${path.join(...segments)} not found in ${above} or the folder above it (copy it beside dist/)`);
}
