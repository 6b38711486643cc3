import { PostgresSessionStore } from '../src/storage/postgres/postgres-session-store';
import { createPool } from '../src/storage/postgres/postgres-connection';
import { describeSessionStoreContract } from './contracts/session-store-contract';
import { describeWithPostgres, migratedPool } from './helpers/postgres';

describeWithPostgres('PostgreSQL store', () => {
  describeSessionStoreContract('PostgreSQL', async () => {
    const { pool, schema, close } = await migratedPool();
    const others: { end: () => Promise<void> }[] = [];
    return {
      store: new PostgresSessionStore(pool),
      failEntriesWithText: async (text) => {
        await pool.query(`CREATE FUNCTION fail_text() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.text = ${pgLiteral(text)} THEN RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END $$`);
        await pool.query('CREATE TRIGGER fail_text BEFORE INSERT ON entries FOR EACH ROW EXECUTE FUNCTION fail_text()');
      },
      anotherInstance: async () => {
        const otherPool = createPool({ url: schema.url, schema: schema.schema }, 4);
        others.push(otherPool);
        return new PostgresSessionStore(otherPool);
      },
      close: async () => {
        for (const other of others) await other.end();
        await close();
      },
    };
  });
});

function pgLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
