import fs from 'node:fs';
import { ConfigError } from './config';

/** Reads a file named by a flag (a key, a certificate); a missing or unreadable one is a ConfigError naming the flag. */
export function readConfigFile(file: string, flag: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new ConfigError(`${flag} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}
