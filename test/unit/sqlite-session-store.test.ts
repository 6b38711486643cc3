import path from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase } from '../../src/storage/open-database';
import { SqliteSessionStore } from '../../src/storage/sqlite-session-store';
import { at, describeSessionStoreContract } from '../contracts/session-store-contract';
import { makeTempDir, removeTempDir } from '../helpers/test-server';

describeSessionStoreContract('SQLite', async () => {
  const dir = makeTempDir();
  const { db } = openDatabase({ file: path.join(dir, 'db', 'support.db'), sync: 'normal' });
  return {
    store: new SqliteSessionStore(db),
    failEntriesWithText: async (text) => {
      db.prepare(`CREATE TRIGGER fail_text BEFORE INSERT ON entries WHEN NEW.text = ? BEGIN SELECT RAISE(ABORT, 'injected fault'); END`.replace('?', `'${text}'`)).run();
    },
    close: async () => {
      db.close();
      removeTempDir(dir);
    },
  };
});

describe('SqliteSessionStore, the one store of one process', () => {
  let dir: string;
  let db: Database.Database;
  let store: SqliteSessionStore;

  beforeEach(() => {
    dir = makeTempDir();
    db = openDatabase({ file: path.join(dir, 'db', 'support.db'), sync: 'normal' }).db;
    store = new SqliteSessionStore(db);
  });

  afterEach(() => {
    db.close();
    removeTempDir(dir);
  });

  test('at start-up attended sessions join the queue behind the awaiting ones, in order of creation', async () => {
    for (const [id, t] of [['s1', 1], ['s2', 2], ['s3', 3], ['s4', 4]] as const) await store.createSession(id, `c-${id}`, at(t), 10);
    await store.markAttended('s3', 'agent1', new Date());
    await store.markAttended('s1', 'agent1', new Date());
    await store.markAwaiting('s2', at(10)); // s2 became agent-less again later than s4
    expect(store.requeueAttendedSessions(at(5))).toBe(2);
    const order = [];
    for (let id = await store.takeNextAwaiting(); id; id = await store.takeNextAwaiting()) order.push(id);
    expect(order).toEqual(['s4', 's2', 's1', 's3']);
  });

});
