import net from 'node:net';

/**
 * True when `host` can only be reached from this machine: `localhost`, 127.0.0.0/8, or ::1
 * (also as an IPv4-mapped address). Names other than `localhost` are not resolved: what a name
 * points at can change after start-up, so only literal loopback addresses count.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  if (net.isIPv4(bare)) return bare.startsWith('127.');
  if (net.isIPv6(bare)) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
    return mapped ? mapped[1]!.startsWith('127.') : new net.SocketAddress({ address: bare, family: 'ipv6' }).address === '::1';
  }
  return false;
}
