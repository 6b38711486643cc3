import net from 'node:net';

/**
 * A TCP relay on loopback between clients and a server that tests can break: reset every
 * connection (a network drop), stop forwarding what clients send (written, never received), or
 * point it at another server port (a server that restarted on a new port).
 */
export type RelayProxy = {
  readonly address: string;
  /** Resets every connection through the relay, both sides. */
  breakConnections(): void;
  /** While true, bytes from clients are dropped instead of forwarded; the connections stay up. */
  dropFromClients(drop: boolean): void;
  /** Bytes from clients dropped so far (a message written into the void has been, once this grows). */
  droppedBytes(): number;
  /** New connections go to `target` from now on. */
  retarget(target: string): void;
  /** Connections accepted so far. */
  connectionsAccepted(): number;
  close(): Promise<void>;
};

export async function startRelayProxy(target: string): Promise<RelayProxy> {
  let upstreamAddress = target;
  let dropping = false;
  let accepted = 0;
  let dropped = 0;
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  };
  const server = net.createServer((client) => {
    accepted++;
    const [host, port] = splitAddress(upstreamAddress);
    const upstream = net.connect(port, host);
    track(client);
    track(upstream);
    client.on('data', (chunk) => {
      if (!dropping) upstream.write(chunk);
      else dropped += chunk.length;
    });
    upstream.on('data', (chunk) => client.write(chunk));
    // Whatever closes one side closes the other, as a real connection would end.
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    breakConnections: () => sockets.forEach((socket) => socket.resetAndDestroy()),
    dropFromClients: (drop) => (dropping = drop),
    droppedBytes: () => dropped,
    retarget: (next) => (upstreamAddress = next),
    connectionsAccepted: () => accepted,
    close: async () => {
      sockets.forEach((socket) => socket.destroy());
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon), Number(address.slice(colon + 1))];
}
