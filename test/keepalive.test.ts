import type { SupportClient } from '../gen/support';
import { AgentStream, connect, CustomerStream } from './helpers/chat-client';
import { startBlackholeProxy, type BlackholeProxy } from './helpers/tcp-proxy';
import { startTestServer, type TestServer } from './helpers/test-server';
import { waitFor } from './helpers/wait';

let server: TestServer;
let proxy: BlackholeProxy;
const clients: SupportClient[] = [];

beforeEach(async () => {
  server = await startTestServer(['--keepalive-seconds', '1', '--keepalive-timeout-seconds', '1']);
  proxy = await startBlackholeProxy(server.address);
});

afterEach(async () => {
  clients.splice(0).forEach((c) => c.close());
  await proxy.close();
  await server.stop();
});

test('an agent whose connection goes silent (no FIN) is detected by keepalive and detached; the session returns to the queue', async () => {
  const direct = connect(server.address);
  const viaProxy = connect(proxy.address);
  clients.push(direct, viaProxy);
  const customer = new CustomerStream(direct, 'joe');
  const { sessionId } = await customer.init();
  const vanishing = new AgentStream(viaProxy, 'agent-gone');
  await vanishing.accept();

  proxy.blackhole();
  const ended = () => server.logs.find((l) => l.msg === 'stream ended' && l.user === 'agent-gone');
  await waitFor(() => ended() !== undefined, 15_000, 'the server to drop the silent agent');
  expect(ended()?.code).toBe('CANCELLED');

  const next = new AgentStream(direct, 'agent-next');
  expect((await next.accept()).sessionId).toBe(sessionId);
});
