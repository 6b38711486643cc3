import { ChatError } from '../../src/domain/chat-error';
import type { SessionAdministration, SessionFilter, SessionSummary } from '../../src/domain/session-administration';
import type { SessionStore } from '../../src/domain/session-store';
import { at, draft, readSession } from './session-store-contract';

/** The admin storage under test, and the chat store on the same database. */
export type AdministrationUnderTest = Readonly<{ store: SessionStore; administration: SessionAdministration; close: () => Promise<void> }>;

const BIG = { maxBytes: 1 << 30, maxEntries: 1 << 30 };
const agent = (agentId: string) => ({ kind: 'agent', agentId }) as const;

/**
 * The contract of the admin storage port (src/domain/session-administration.ts), run against
 * every implementation: `make` gives a store and its administration on a fresh database per test.
 */
export function describeSessionAdministrationContract(name: string, make: () => Promise<AdministrationUnderTest>): void {
  describe(`${name}: the session administration port`, () => {
    let sut: AdministrationUnderTest;
    let store: SessionStore;
    let admin: SessionAdministration;
    beforeEach(async () => {
      sut = await make();
      ({ store, administration: admin } = sut);
    });
    afterEach(() => sut.close());

    /** Every session that passes `filter`, read page by page with pages of `size`. */
    async function listAll(filter: SessionFilter, size: number): Promise<string[]> {
      const ids: string[] = [];
      let page = await admin.listSessions(filter, size, undefined);
      for (;;) {
        expect(page.sessions.length).toBeLessThanOrEqual(size);
        ids.push(...page.sessions.map((s) => s.id));
        if (!page.next) return ids;
        page = await admin.listSessions(filter, size, page.next);
      }
    }

    /** a (ann, awaiting), b (bob, attended by agent1), c (ann, ended, agent2 took part), d (cid, awaiting), created 1..4 s. */
    async function fourSessions(): Promise<void> {
      await store.createSession('a', 'ann', at(1000), 10);
      await store.createSession('b', 'bob', at(2000), 10);
      await store.createSession('c', 'ann', at(3000), 10);
      await store.createSession('d', 'cid', at(4000), 10);
      await store.markAttended('b', 'agent1', at(2500));
      await store.markAttended('c', 'agent2', at(3500));
      await store.appendEntry('c', draft('hello'), at(3600), BIG);
      await store.appendEntry('c', draft('hi', agent('agent2')), at(3700), BIG);
      await store.endSession('c', at(3800));
    }

    test('a session summary: state, times, entry count; unknown sessions are undefined', async () => {
      await fourSessions();
      expect(await admin.describeSession('a')).toEqual<SessionSummary>({
        id: 'a', customerId: 'ann', state: 'awaiting', createdAt: at(1000), endedAt: undefined, awaitingSince: at(1000), entryCount: 0, lastEntryAt: undefined,
      });
      expect(await admin.describeSession('b')).toMatchObject({ state: 'attended', awaitingSince: undefined, endedAt: undefined });
      expect(await admin.describeSession('c')).toEqual<SessionSummary>({
        id: 'c', customerId: 'ann', state: 'ended', createdAt: at(3000), endedAt: at(3800), awaitingSince: undefined, entryCount: 2, lastEntryAt: at(3700),
      });
      expect(await admin.describeSession('nope')).toBeUndefined();
    });

    test('listings are newest first, and each filter keeps what it says', async () => {
      await fourSessions();
      expect(await listAll({}, 10)).toEqual(['d', 'c', 'b', 'a']);
      expect(await listAll({ state: 'awaiting' }, 10)).toEqual(['d', 'a']);
      expect(await listAll({ state: 'attended' }, 10)).toEqual(['b']);
      expect(await listAll({ state: 'ended' }, 10)).toEqual(['c']);
      expect(await listAll({ customerId: 'ann' }, 10)).toEqual(['c', 'a']);
      expect(await listAll({ agentId: 'agent2' }, 10)).toEqual(['c']);
      expect(await listAll({ agentId: 'nobody' }, 10)).toEqual([]);
      expect(await listAll({ createdAfter: at(2000), createdBefore: at(4000) }, 10)).toEqual(['c', 'b']);
      expect(await listAll({ customerId: 'ann', state: 'awaiting', createdBefore: at(2000) }, 10)).toEqual(['a']);
    });

    test('pages of any size cover the listing exactly once, also when sessions share a creation time', async () => {
      for (let i = 0; i < 7; i++) await store.createSession(`s${i}`, 'joe', at(i < 4 ? 1000 : 2000), 10);
      const everything = ['s6', 's5', 's4', 's3', 's2', 's1', 's0'];
      for (const size of [1, 2, 3, 7, 8]) expect(await listAll({}, size)).toEqual(everything);
      const full = await admin.listSessions({}, 7, undefined);
      expect(full.next).toBeUndefined(); // a page that ends the listing says so
      // Sessions created after a listing began come on no later page of it.
      const first = await admin.listSessions({}, 3, undefined);
      await store.createSession('late', 'joe', at(3000), 10);
      expect((await admin.listSessions({}, 10, first.next)).sessions.map((s) => s.id)).toEqual(['s3', 's2', 's1', 's0']);
    });

    test('participants are the agents who attached, once each, in the order they first did', async () => {
      await store.createSession('a', 'ann', at(0), 10);
      expect(await admin.participants('a')).toEqual([]);
      await store.markAttended('a', 'zed', at(1));
      await store.markAttended('a', 'amy', at(2));
      await store.markAttended('a', 'zed', at(3));
      expect(await admin.participants('a')).toEqual(['zed', 'amy']);
      expect(await admin.participants('nope')).toEqual([]);
    });

    test("erasing a customer removes every session, entry and participant of theirs, and nothing of anyone else's", async () => {
      await fourSessions();
      await store.appendEntry('a', draft('my card number'), at(5000), BIG);
      await store.appendEntry('d', draft('other customer'), at(5000), BIG);

      const erasure = await admin.eraseCustomer('ann');
      expect({ ...erasure, sessionIds: [...erasure.sessionIds].sort() }).toEqual({ sessions: 2, entries: 3, sessionIds: ['a', 'c'], ended: [{ id: 'a', lastSeq: 1 }] });

      for (const id of ['a', 'c']) {
        expect(await store.findSession(id)).toBeUndefined();
        expect(await store.readHistory(id, 0, 10, 10)).toEqual([]);
        expect(await admin.describeSession(id)).toBeUndefined();
        expect(await admin.participants(id)).toEqual([]);
      }
      expect(await listAll({ customerId: 'ann' }, 10)).toEqual([]);
      expect(await listAll({ agentId: 'agent2' }, 10)).toEqual([]);
      expect(await listAll({}, 10)).toEqual(['d', 'b']);
      expect((await readSession(store, 'd'))!.history.map((e) => e.text)).toEqual(['other customer']);
    });

    test('after an erasure, writes to the erased sessions find no session; the customer can start again', async () => {
      await store.createSession('a', 'ann', at(0), 1);
      await store.appendEntry('a', draft('one'), at(1), BIG); // the store now holds the session's counters
      await admin.eraseCustomer('ann');
      await expect(store.appendEntry('a', draft('two'), at(2), BIG)).rejects.toMatchObject({ kind: 'not-found' });
      await expect(store.endSession('a', at(2))).rejects.toBeInstanceOf(ChatError);
      await expect(store.markAttended('a', 'agent1', at(2))).rejects.toMatchObject({ kind: 'not-found' });
      expect(await store.takeNextAwaiting()).toBeUndefined();
      await store.createSession('b', 'ann', at(3), 1); // the open-session limit no longer counts 'a'
      expect(await admin.eraseCustomer('ann')).toEqual({ sessions: 1, entries: 0, sessionIds: ['b'], ended: [{ id: 'b', lastSeq: 0 }] });
    });

    test('erasing a customer who has nothing erases nothing; purging succeeds whether or not anything was deleted', async () => {
      await admin.purgeDeleted();
      expect(await admin.eraseCustomer('nobody')).toEqual({ sessions: 0, entries: 0, sessionIds: [], ended: [] });
      await store.createSession('a', 'ann', at(0), 1);
      await admin.eraseCustomer('ann');
      await admin.purgeDeleted();
      expect(await store.findSession('a')).toBeUndefined();
    });
  });
}
