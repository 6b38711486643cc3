import net from 'node:net';
import tls, { type PeerCertificate } from 'node:tls';
import type { ChannelOptions } from '@grpc/grpc-js';

/**
 * What grpc-js is told to send as the TLS server name (SNI) when the address is an IP. RFC 6066
 * allows only host names there, and Node warns (DEP0123) when given an IP; grpc-js always sends the
 * address's host unless `grpc.ssl_target_name_override` names another. A name under `.invalid`
 * (RFC 2606: never a real name) says "no name" to a server, which then answers with its default
 * certificate, as it would to a client sending no SNI at all.
 */
const NO_SERVER_NAME = 'ip-address.invalid';

/** How a TLS channel to `address` names the server: grpc-js's default for host names, the IP for IP addresses. */
export type ServerNaming = Readonly<{
  channelOptions: ChannelOptions;
  /** The certificate check, given to grpc-js's createSsl (it passes the override name, which this ignores). */
  checkServerIdentity: ((name: string, cert: PeerCertificate) => Error | undefined) | undefined;
}>;

/** `channelOptions`: the app's own; a server name it sets there is its choice, and left alone. */
export function serverNamingOf(address: string, channelOptions: ChannelOptions | undefined): ServerNaming {
  const ip = ipHostOf(address);
  if (ip === undefined || channelOptions?.['grpc.ssl_target_name_override'] !== undefined) return { channelOptions: {}, checkServerIdentity: undefined };
  return {
    channelOptions: { 'grpc.ssl_target_name_override': NO_SERVER_NAME },
    // The certificate must still name the IP connected to (an IP subjectAltName), as it would without the override.
    checkServerIdentity: (_name, cert) => tls.checkServerIdentity(ip, cert),
  };
}

/** The host of `HOST:PORT` / `[V6]:PORT` when it is an IP address. */
function ipHostOf(address: string): string | undefined {
  const host = /^\[([^\]]+)\]:\d+$/.exec(address)?.[1] ?? /^([^:]+):\d+$/.exec(address)?.[1];
  return host !== undefined && net.isIP(host) !== 0 ? host : undefined;
}
