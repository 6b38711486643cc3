import fs from 'node:fs';
import path from 'node:path';
import { openDatabase } from '../../src/storage/open-database';
import { makeTempDir, removeTempDir } from '../helpers/test-server';

let dir: string;
beforeEach(() => (dir = makeTempDir('support-open-db-')));
afterEach(() => removeTempDir(dir));

const permissions = (file: string) => fs.statSync(file).mode & 0o777;

test('a new database, its folder, and its WAL files are readable by the server user only, whatever the umask', () => {
  const previous = process.umask(0o000); // the most permissive umask: the modes must come from the code
  try {
    const file = path.join(dir, 'nested', 'data', 'support.db');
    const { db } = openDatabase({ file, sync: 'normal' });
    db.exec('CREATE TABLE written (x)'); // a write, so the WAL files exist
    expect(permissions(path.dirname(file))).toBe(0o700);
    expect(permissions(path.join(dir, 'nested'))).toBe(0o700);
    expect(permissions(file)).toBe(0o600);
    // SQLite gives its -wal and -shm files the mode of the database file.
    for (const companion of [`${file}-wal`, `${file}-shm`]) expect(permissions(companion)).toBe(0o600);
    db.close();
  } finally {
    process.umask(previous);
  }
});
