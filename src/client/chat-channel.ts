import type { ChannelCredentials } from '@grpc/grpc-js';
import { SupportClient } from '../../gen/support';
import { channelOptionsOf, type ChatOptions } from './chat-options';

/**
 * A chat's own connection to the server: made on first use, dropped after a break so that the
 * next attempt gets a fresh one rather than one in grpc-js's own backoff, and on close.
 */
export class ChatChannel {
  private client: SupportClient | undefined;

  constructor(
    private readonly options: ChatOptions,
    private readonly credentials: ChannelCredentials,
  ) {}

  open(): SupportClient {
    this.client ??= new SupportClient(this.options.address, this.credentials, channelOptionsOf(this.options));
    return this.client;
  }

  drop(): void {
    this.client?.close();
    this.client = undefined;
  }
}
