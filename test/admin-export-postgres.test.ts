import { expect } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import { ExportFormat } from '../gen/support/admin/v1/admin';
import { connectAdmin, demoToken, unary } from './helpers/admin-client';
import { AgentStream, connect, CustomerStream } from './helpers/chat-client';
import { exportText, parseJsonLines } from './helpers/export-client';
import { describeWithPostgres } from './helpers/postgres';
import { startDeployment, type TestDeployment } from './helpers/postgres-deployment';

// ExportSessions on PostgreSQL: what was said through one instance, exported through another.

describeWithPostgres('ExportSessions on PostgreSQL', () => {
  let deployment: TestDeployment;
  const clients: { close: () => void }[] = [];
  afterEach(async () => {
    clients.forEach((c) => c.close());
    await deployment.stop();
  });

  test('one session and a range, exported by another instance, entry by entry as they were sent', async () => {
    deployment = await startDeployment(2, ['--max-messages-per-second', '0']);
    const [a, b] = deployment.instances.map((i) => i.address);
    const chat = connect(a!, { ownConnection: true });
    const admin = connectAdmin(b!);
    clients.push(chat, admin);
    const joe = new CustomerStream(chat, 'joe');
    const { sessionId } = await joe.init();
    const ann = new AgentStream(chat, 'agent-ann');
    await ann.accept(sessionId);
    const sent: [string, string, string][] = [];
    for (let i = 0; i < 300; i++) {
      if (i % 3 === 2) {
        ann.send(`answer ${i}`);
        sent.push(['agent', 'agent-ann', `answer ${i}`]);
        await joe.next();
      } else {
        joe.send(`question ${i}\nline two`);
        sent.push(['customer', 'joe', `question ${i}\nline two`]);
        await ann.next();
      }
    }
    joe.hangUp();
    await ann.next();
    const { history } = await unary(admin, 'getSession', { sessionId }, demoToken('admin-ops'));
    const expected = sent.map(([role, id, text], i) => ({ session_id: sessionId, seq: i + 1, date: history[i]!.date!.toISOString(), author_role: role, author_id: id, text }));

    const one = await exportText(admin, { $case: 'sessionId', value: sessionId });
    expect(one.status.code).toBe(grpc.status.OK);
    expect(parseJsonLines(one.text)).toEqual(expected);
    const ended = await exportText(admin, { $case: 'ended', value: { start: new Date(0), end: undefined } });
    expect(parseJsonLines(ended.text)).toEqual(expected);
    const text = await exportText(admin, { $case: 'created', value: { start: new Date(0), end: undefined } }, ExportFormat.EXPORT_FORMAT_PLAIN_TEXT);
    expect(text.text.split('\n').filter((line) => line.includes('  customer joe: question ') || line.includes('  agent agent-ann: answer '))).toHaveLength(300);
    joe.end();
    ann.end();
  });
});
