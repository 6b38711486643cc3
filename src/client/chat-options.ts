import type { ChannelOptions } from '@grpc/grpc-js';
import type { BackoffOptions, GiveUpOptions } from './backoff';
import type { ChatCredentials, TlsOptions } from './credentials';
import { serverNamingOf } from './tls-server-name';

/** Options of `CustomerChat` and `AgentChat`. */
export type ChatOptions = {
  /** The server, `HOST:PORT`. */
  address: string;
  credentials: ChatCredentials;
  /** Connect over TLS (default: plaintext, as the demo server on loopback). */
  tls?: TlsOptions;
  backoff?: BackoffOptions;
  giveUp?: GiveUpOptions;
  /** How long one attempt may wait for the server's reply to init/accept before trying again, in ms (default 10 000). */
  joinTimeoutMs?: number;
  /**
   * Keepalive ping interval in ms (default 20 000; the server accepts pings every 10 s or more), so a
   * connection that died without a FIN is noticed and the chat reconnects.
   */
  keepaliveMs?: number;
  /** Largest message the app may send, in UTF-8 bytes (default 8192, the server's default); larger ones are refused locally. */
  maxMessageBytes?: number;
  /** Extra grpc-js channel options. */
  channelOptions?: ChannelOptions;
};

/**
 * The channel options of a chat: its own connection, so a reconnect never waits on a shared one in
 * backoff; over TLS to an IP address, the server name grpc-js sends (tls-server-name.ts).
 */
export function channelOptionsOf(options: ChatOptions): ChannelOptions {
  const keepaliveMs = options.keepaliveMs ?? 20_000;
  return {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.keepalive_time_ms': keepaliveMs,
    'grpc.keepalive_timeout_ms': 10_000,
    ...(options.tls === undefined ? {} : serverNamingOf(options.address, options.channelOptions).channelOptions),
    ...options.channelOptions,
  };
}
