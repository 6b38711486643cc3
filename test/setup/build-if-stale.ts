import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
/** What `npm run build` compiles (tsconfig.build.json), and the configs that shape it. */
const BUILD_INPUTS = ['src', 'gen', 'bench', 'tsconfig.json', 'tsconfig.build.json'];
const BUILT_ENTRY = path.join(ROOT, 'dist', 'src', 'main.js');

/**
 * The suites that start the server or the apps as child processes run the
 * built `dist/`; `npm test` builds first, but `npx jest` alone would test whatever build is lying
 * there. So when any input of the build is newer than dist/ (or there is none), this builds it
 * first; when dist/ is fresh (as after `npm test`'s own build) it costs a walk of the sources.
 */
export function buildIfStale(): void {
  const builtAt = fs.existsSync(BUILT_ENTRY) ? fs.statSync(BUILT_ENTRY).mtimeMs : -Infinity;
  const newer = newestInput();
  if (newer.mtimeMs <= builtAt) return;
  process.stderr.write(`\njest: dist/ is older than ${path.relative(ROOT, newer.file)}; building it first (npm run build)\n`);
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  } catch {
    throw new Error('jest: the build failed (see above); the suites that run dist/ would test a stale build');
  }
}

function newestInput(): { file: string; mtimeMs: number } {
  let newest = { file: '', mtimeMs: -Infinity };
  const visit = (file: string) => {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(file)) visit(path.join(file, entry));
    } else if ((file.endsWith('.ts') || file.endsWith('.json')) && stat.mtimeMs > newest.mtimeMs) {
      newest = { file, mtimeMs: stat.mtimeMs };
    }
  };
  for (const input of BUILD_INPUTS) if (fs.existsSync(path.join(ROOT, input))) visit(path.join(ROOT, input));
  return newest;
}
