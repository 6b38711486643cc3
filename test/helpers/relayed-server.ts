import { startRelayProxy, type RelayProxy } from './relay-proxy';
import { startTestServer, type TestServer } from './test-server';

/**
 * Gives each test of the file a fresh server and a relay in front of it (`bind` receives them), and
 * after the test closes the chats passed to the returned `track`, then the relay and the server.
 */
export function useServerBehindRelay(bind: (server: TestServer, relay: RelayProxy) => void): <T extends { close(): void }>(chat: T) => T {
  let server: TestServer;
  let relay: RelayProxy;
  let chats: { close(): void }[] = [];
  beforeEach(async () => {
    server = await startTestServer();
    relay = await startRelayProxy(server.address);
    bind(server, relay);
  });
  afterEach(async () => {
    for (const chat of chats) chat.close();
    chats = [];
    await relay.close();
    await server.stop();
  });
  return (chat) => {
    chats.push(chat);
    return chat;
  };
}
