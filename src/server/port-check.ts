import net from 'node:net';

/** The address to listen on is taken by another process; main prints the message on one line and exits with 2. */
export class PortInUseError extends Error {}

/**
 * Fails with PortInUseError when `host:port` cannot be listened on because another process holds
 * it. Checked before the database is opened or migrated, so a server started twice on one port
 * touches nothing and says so in one line (grpc-js, left to find out, would log its own error
 * besides). A race with a process taking the port just after is still caught by the real bind.
 */
export async function ensurePortFree(host: string, port: number): Promise<void> {
  if (port === 0) return; // the system picks a free one
  const probe = net.createServer();
  const problem = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    probe.once('error', resolve);
    probe.listen({ host, port, exclusive: true }, () => resolve(undefined));
  });
  await new Promise<void>((resolve) => (probe.listening ? probe.close(() => resolve()) : resolve()));
  if (problem?.code === 'EADDRINUSE') {
    throw new PortInUseError(`port ${port} on ${host} is in use by another process; stop it or pass another --port`);
  }
  if (problem?.code === 'EACCES') {
    throw new PortInUseError(`port ${port} on ${host} needs privileges this process lacks (ports below 1024: CAP_NET_BIND_SERVICE); pass another --port`);
  }
  // Anything else (an address this machine does not have, say) is left to the real bind to report.
}
