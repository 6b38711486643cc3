import fs from 'node:fs';
import path from 'node:path';

/**
 * A file or folder of the project (`migrations`, `gen/support.binpb`), found by walking up from
 * this module to the folder holding package.json, so it resolves the same from `src/` (tests) and
 * from `dist/src/` (the built server).
 */
export function projectPath(...segments: string[]): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, ...segments);
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`${path.join(...segments)} not found in any folder above ${__dirname} that holds package.json`);
}
