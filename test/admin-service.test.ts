import * as grpc from '@grpc/grpc-js';
import { AuthorRole, SessionState, type ListSessionsRequest, type SupportAdminServiceClient } from '../gen/support/admin/v1/admin';
import type { SupportClient } from '../gen/support';
import { connectAdmin, demoToken, unary, unaryCode, waitUntil } from './helpers/admin-client';
import { AgentStream, connect, CustomerStream, nextDescribed } from './helpers/chat-client';
import { describeWithPostgres } from './helpers/postgres';
import { startDeployment } from './helpers/postgres-deployment';
import { startTestServer } from './helpers/test-server';

// The admin service over real gRPC, on SQLite (one server) and on PostgreSQL (two instances: the
// chat on one, the admin calls on the other, so that every effect crosses instances).

/** Where the chat's clients and the admin connect. */
export type AdminDeployment = Readonly<{ chatAddress: string; adminAddress: string; stop: () => Promise<void> }>;

const ADMIN = demoToken('admin-ops');
const LIST_ALL: ListSessionsRequest = {
  state: SessionState.SESSION_STATE_UNSPECIFIED, customerId: '', agentId: '', createdAfter: undefined, createdBefore: undefined, pageSize: 0, pageToken: '',
};

function describeAdminService(name: string, start: () => Promise<AdminDeployment>): void {
  describe(name, () => {
    let deployment: AdminDeployment;
    let chat: SupportClient;
    let admin: SupportAdminServiceClient;
    const streams: { end(): void }[] = [];
    beforeEach(async () => {
      deployment = await start();
      chat = connect(deployment.chatAddress);
      admin = connectAdmin(deployment.adminAddress);
    });
    afterEach(async () => {
      for (const stream of streams.splice(0)) stream.end();
      chat.close();
      admin.close();
      await deployment.stop();
    });

    const customer = (user: string) => track(new CustomerStream(chat, user));
    const agent = (user: string) => track(new AgentStream(chat, user));
    function track<T extends { end(): void }>(stream: T): T {
      streams.push(stream);
      return stream;
    }
    const list = (request: Partial<ListSessionsRequest>) => unary(admin, 'listSessions', { ...LIST_ALL, ...request }, ADMIN);
    const listIds = async (request: Partial<ListSessionsRequest>) => (await list(request)).sessions.map((s) => s.sessionId);
    const listCode = (request: Partial<ListSessionsRequest>) => unaryCode(admin, 'listSessions', { ...LIST_ALL, ...request }, ADMIN);
    const getSession = (sessionId: string) => unary(admin, 'getSession', { sessionId }, ADMIN);
    const stateOf = async (sessionId: string) => (await getSession(sessionId)).session!.state;
    /** A customer's message has no reply: wait until the session holds `count` entries. */
    const committed = (sessionId: string, count: number) =>
      waitUntil(async () => (await getSession(sessionId)).session!.entryCount === count, `${count} entries in the session`);

    test('ListSessions: newest first, each filter, pages that follow their tokens; bad requests are INVALID_ARGUMENT', async () => {
      const s1 = (await customer('joe').init()).sessionId;
      await agent('agent-a').accept(s1);
      const s2 = (await customer('ann').init()).sessionId;
      const joeAgain = customer('joe');
      const s3 = (await joeAgain.init()).sessionId;
      joeAgain.hangUp();
      await waitUntil(async () => (await stateOf(s3)) === SessionState.SESSION_STATE_ENDED, 'the hang-up');

      expect(await listIds({})).toEqual([s3, s2, s1]);
      expect(await listIds({ state: SessionState.SESSION_STATE_AWAITING })).toEqual([s2]);
      expect(await listIds({ state: SessionState.SESSION_STATE_ATTENDED })).toEqual([s1]);
      expect(await listIds({ state: SessionState.SESSION_STATE_ENDED })).toEqual([s3]);
      expect(await listIds({ customerId: 'joe' })).toEqual([s3, s1]);
      expect(await listIds({ agentId: 'agent-a' })).toEqual([s1]);
      const { sessions } = await list({});
      expect(await listIds({ createdAfter: sessions[1]!.createTime })).toEqual([s3, s2]);
      expect(sessions[2]).toMatchObject({ sessionId: s1, customerId: 'joe', state: SessionState.SESSION_STATE_ATTENDED, entryCount: 0, endTime: undefined });
      expect(sessions[0]!.endTime).toBeInstanceOf(Date);

      const paged: string[] = [];
      for (let token = '', first = true; first || token !== ''; first = false) {
        const page = await list({ pageSize: 1, pageToken: token });
        paged.push(...page.sessions.map((s) => s.sessionId));
        token = page.nextPageToken;
      }
      expect(paged).toEqual([s3, s2, s1]);

      const token = (await list({ pageSize: 1 })).nextPageToken;
      expect(await listCode({ pageSize: 1, pageToken: token, customerId: 'joe' })).toBe(grpc.status.INVALID_ARGUMENT); // other filters
      expect(await listCode({ pageToken: 'not-a-token' })).toBe(grpc.status.INVALID_ARGUMENT);
      expect(await listCode({ pageSize: -1 })).toBe(grpc.status.INVALID_ARGUMENT);
      expect(await listCode({ state: 9 as SessionState })).toBe(grpc.status.INVALID_ARGUMENT);
      expect(await listCode({ customerId: 'two words' })).toBe(grpc.status.INVALID_ARGUMENT);
      expect(await listCode({ pageSize: 5000 })).toBe(grpc.status.OK); // served as the largest page
    });

    test('GetSession: the history with its authors, and every agent who attached, also one who wrote nothing', async () => {
      const joe = customer('joe');
      const sessionId = (await joe.init()).sessionId;
      const amy = agent('agent-amy');
      await amy.accept(sessionId);
      const bob = agent('agent-bob');
      await bob.accept(sessionId);
      bob.leave();
      joe.send('hello');
      expect(await nextDescribed(amy)).toBe('customer: hello');
      amy.send('hi joe');
      await joe.next();

      const { session, history, agentIds } = await getSession(sessionId);
      expect(session).toMatchObject({ sessionId, customerId: 'joe', state: SessionState.SESSION_STATE_ATTENDED, entryCount: 2 });
      expect(history).toEqual([
        { seq: 1, date: expect.any(Date), authorRole: AuthorRole.AUTHOR_ROLE_CUSTOMER, authorId: 'joe', text: 'hello' },
        { seq: 2, date: expect.any(Date), authorRole: AuthorRole.AUTHOR_ROLE_AGENT, authorId: 'agent-amy', text: 'hi joe' },
      ]);
      expect(session!.lastEntryTime).toEqual(history[1]!.date);
      expect(agentIds).toEqual(['agent-amy', 'agent-bob']);
      expect(await unaryCode(admin, 'getSession', { sessionId: 'no-such-session' }, ADMIN)).toBe(grpc.status.NOT_FOUND);
      expect(await unaryCode(admin, 'getSession', { sessionId: '' }, ADMIN)).toBe(grpc.status.INVALID_ARGUMENT);
    });

    test('GetQueueStatistics: awaiting and attended sessions, the oldest wait, and the agent streams attached', async () => {
      expect(await unary(admin, 'getQueueStatistics', {}, ADMIN)).toEqual({ awaitingCount: 0, oldestAwaitingSince: undefined, attendedCount: 0, agentsAttached: 0 });
      const waiting = (await customer('ann').init()).sessionId;
      const attended = (await customer('joe').init()).sessionId;
      await agent('agent-a').accept(attended);
      await agent('agent-b').accept(attended);
      const since = (await getSession(waiting)).session!.awaitingSince;
      expect(await unary(admin, 'getQueueStatistics', {}, ADMIN)).toEqual({ awaitingCount: 1, oldestAwaitingSince: since, attendedCount: 1, agentsAttached: 2 });
    });

    test('EndSession ends a session as a hang-up: the agent gets session_ended, the customer stream leaves it', async () => {
      const joe = customer('joe');
      const sessionId = (await joe.init()).sessionId;
      const amy = agent('agent-amy');
      await amy.accept(sessionId);

      expect(await unary(admin, 'endSession', { sessionId }, ADMIN)).toEqual({});
      expect(await nextDescribed(amy)).toBe('session ended');
      expect(await joe.endCode()).toBe(grpc.status.FAILED_PRECONDITION); // as when another device hangs up
      expect(await stateOf(sessionId)).toBe(SessionState.SESSION_STATE_ENDED);
      const resume = customer('joe');
      resume.sendInit(sessionId);
      expect(await resume.endCode()).toBe(grpc.status.FAILED_PRECONDITION);
      // The agent's stream is free again.
      const next = (await customer('ann').init()).sessionId;
      expect((await amy.accept()).sessionId).toBe(next);

      expect(await unaryCode(admin, 'endSession', { sessionId }, ADMIN)).toBe(grpc.status.FAILED_PRECONDITION);
      expect(await unaryCode(admin, 'endSession', { sessionId: 'no-such-session' }, ADMIN)).toBe(grpc.status.NOT_FOUND);
    });

    test("EraseCustomer: every session and entry of theirs goes, their streams end, a resume is NOT_FOUND; others' stay", async () => {
      const old = customer('joe');
      const ended = (await old.init()).sessionId;
      old.send('an ended chat');
      old.hangUp();
      await waitUntil(async () => (await stateOf(ended)) === SessionState.SESSION_STATE_ENDED, 'the hang-up');
      const joe = customer('joe');
      const open = (await joe.init()).sessionId;
      const amy = agent('agent-amy');
      await amy.accept(open);
      joe.send('my card number');
      expect(await nextDescribed(amy)).toBe('customer: my card number');
      const ann = customer('ann');
      const kept = (await ann.init()).sessionId;
      ann.send('ann stays');
      await committed(kept, 1);

      expect(await unary(admin, 'eraseCustomer', { customerId: 'joe' }, ADMIN)).toEqual({ sessionsErased: 2, entriesErased: 2 });
      expect(await nextDescribed(amy)).toBe('session ended');
      expect(await joe.endCode()).toBe(grpc.status.FAILED_PRECONDITION);
      for (const sessionId of [ended, open]) {
        const resume = customer('joe');
        resume.sendInit(sessionId);
        expect(await resume.endCode()).toBe(grpc.status.NOT_FOUND);
        expect(await unaryCode(admin, 'getSession', { sessionId }, ADMIN)).toBe(grpc.status.NOT_FOUND);
      }
      expect(await listIds({ customerId: 'joe' })).toEqual([]);
      expect(await listIds({})).toEqual([kept]);
      expect((await getSession(kept)).history.map((e) => e.text)).toEqual(['ann stays']);
      expect(await unary(admin, 'eraseCustomer', { customerId: 'joe' }, ADMIN)).toEqual({ sessionsErased: 0, entriesErased: 0 });
      expect(await unaryCode(admin, 'eraseCustomer', { customerId: '' }, ADMIN)).toBe(grpc.status.INVALID_ARGUMENT);
    });
  });
}

describeAdminService('SQLite', async () => {
  const server = await startTestServer();
  return { chatAddress: server.address, adminAddress: server.address, stop: () => server.stop() };
});

describeWithPostgres('PostgreSQL', () => {
  describeAdminService('PostgreSQL, chat on one instance and admin calls on another', async () => {
    const deployment = await startDeployment(2);
    const [adminInstance, chatInstance] = deployment.instances;
    return { chatAddress: chatInstance!.address, adminAddress: adminInstance!.address, stop: () => deployment.stop() };
  });
});
