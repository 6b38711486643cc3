import type { ChannelOptions } from '@grpc/grpc-js';
import type { Config } from '../config/config';

/**
 * grpc-js server options. Keepalive is off by default on a grpc-js server; without it a client
 * that vanished without a FIN keeps its stream (and its session's agents) attached forever.
 */
export function serverOptions(config: Config): ChannelOptions {
  return {
    // By default ping every 30 s and give up after 10 s without an answer: a peer that vanished
    // without a FIN (half-open TCP) is detached within ~40 s, and its session goes back to the queue.
    'grpc.keepalive_time_ms': config.keepaliveSeconds * 1000,
    'grpc.keepalive_timeout_ms': config.keepaliveTimeoutSeconds * 1000,
    // Accept client keepalive pings as often as every 10 s, even between calls.
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_concurrent_streams': config.maxStreamsPerConnection,
    // One request holds at most one message text and a few short fields: refuse anything far larger
    // before it is buffered and decoded.
    'grpc.max_receive_message_length': 4 * config.maxMessageBytes + 4096,
    // nghttp2's memory per connection (header tables, frames queued to be sent, in MB): grpc-js sets
    // no limit unless told. Past it the connection refuses new streams; room for a few full histories.
    'grpc-node.max_session_memory': Math.max(10, Math.ceil((4 * config.maxHistoryBytes) / 2 ** 20) + 8),
  };
}
