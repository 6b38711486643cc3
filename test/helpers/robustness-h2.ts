import http2 from 'node:http2';
import net from 'node:net';
import { status as Status } from '@grpc/grpc-js';
import { ChatAgentRequest, ChatCustomerRequest } from '../../gen/support';
import { waitFor } from './wait';

/**
 * gRPC calls made by hand over node:http2, for what grpc-js clients cannot or will not send:
 * bad length prefixes, compressed-flag frames, truncated messages, wrong content types, streams
 * reset at an exact moment, connections cut without a GOAWAY.
 */

/** One gRPC length-prefixed message: flag byte, 4-byte big-endian length (or `declaredLength`), payload. */
export function grpcFrame(payload: Uint8Array, options: { compressedFlag?: number; declaredLength?: number } = {}): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = options.compressedFlag ?? 0;
  prefix.writeUInt32BE(options.declaredLength ?? payload.length, 1);
  return Buffer.concat([prefix, payload]);
}

/** Encoded requests, framed. */
export const frames = {
  init: (resumeSessionId = '') => grpcFrame(ChatCustomerRequest.encode({ req: { $case: 'init', value: { resumeSessionId } } }).finish()),
  customerMsg: (text: string) => grpcFrame(ChatCustomerRequest.encode({ req: { $case: 'msg', value: text } }).finish()),
  accept: (sessionId = '') => grpcFrame(ChatAgentRequest.encode({ req: { $case: 'accept', value: { sessionId } } }).finish()),
};

/** One hand-made call: what came back, as it came. */
export class RawH2Call {
  /** Payloads of the complete length-prefixed response messages received so far. */
  readonly messages: Buffer[] = [];
  /** The HTTP :status of the response headers. */
  httpStatus: number | undefined;
  /** grpc-status from the trailers (or a trailers-only response). */
  grpcStatus: Status | undefined;
  grpcMessage: string | undefined;
  /** Set once the stream is closed on both sides; `rstCode` then tells whether it was reset. */
  closed = false;
  rstCode: number | undefined;
  private pending = Buffer.alloc(0);

  constructor(readonly stream: http2.ClientHttp2Stream) {
    const takeStatus = (headers: http2.IncomingHttpHeaders) => {
      const status = headers['grpc-status'];
      if (typeof status === 'string') {
        this.grpcStatus = Number(status);
        const message = headers['grpc-message'];
        this.grpcMessage = typeof message === 'string' ? decodeURIComponent(message) : undefined;
      }
    };
    stream.on('response', (headers) => {
      this.httpStatus = Number(headers[':status']);
      takeStatus(headers);
    });
    stream.on('trailers', takeStatus);
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('error', () => {}); // a reset shows in rstCode
    stream.on('close', () => {
      this.closed = true;
      this.rstCode = stream.rstCode;
    });
  }

  write(bytes: Uint8Array): void {
    if (!this.stream.closed && !this.stream.destroyed) this.stream.write(bytes);
  }

  /** Half-closes the request side (END_STREAM). */
  end(bytes?: Uint8Array): void {
    if (!this.stream.closed && !this.stream.destroyed) this.stream.end(bytes);
  }

  /** Resets the stream with RST_STREAM(CANCEL), at once. */
  cancel(): void {
    if (!this.stream.closed && !this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_CANCEL);
  }

  /** Waits until the server has answered with a gRPC status, a non-200 response, or a reset. */
  async answered(timeoutMs = 10_000): Promise<void> {
    await waitFor(
      () => this.grpcStatus !== undefined || (this.httpStatus !== undefined && this.httpStatus !== 200) || this.closed,
      timeoutMs,
      'the server to answer the call',
    );
  }

  /** Waits for `count` complete response messages, or for the call to end first. */
  async messagesReceived(count: number, timeoutMs = 10_000): Promise<boolean> {
    await waitFor(() => this.messages.length >= count || this.grpcStatus !== undefined || this.closed, timeoutMs, `${count} response messages`);
    return this.messages.length >= count;
  }

  /** Waits until the stream is closed on both sides. */
  async finished(timeoutMs = 10_000): Promise<void> {
    await waitFor(() => this.closed, timeoutMs, 'the stream to close');
  }

  private onData(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 5) {
      const length = this.pending.readUInt32BE(1);
      if (this.pending.length < 5 + length) return;
      this.messages.push(this.pending.subarray(5, 5 + length));
      this.pending = this.pending.subarray(5 + length);
    }
  }
}

/** One HTTP/2 connection of its own, on a socket the test holds, so it can be cut abruptly. */
export class RawH2Connection {
  /** The error code of a GOAWAY the server sent, if it sent one. */
  goawayCode: number | undefined;

  private constructor(
    readonly session: http2.ClientHttp2Session,
    readonly socket: net.Socket,
  ) {
    session.on('goaway', (code: number) => (this.goawayCode = code));
  }

  /** False once the connection is closing or closed, by either side. */
  get usable(): boolean {
    return !this.session.closed && !this.session.destroyed && this.goawayCode === undefined;
  }

  static async open(address: string): Promise<RawH2Connection> {
    const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
    const socket = net.connect(port, host);
    socket.on('error', () => {});
    const session = http2.connect(`http://${address}`, { createConnection: () => socket });
    session.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      session.once('connect', () => resolve());
      session.once('close', () => reject(new Error(`could not connect to ${address}`)));
    });
    return new RawH2Connection(session, socket);
  }

  /** Opens a call of `path` with the usual gRPC headers, `headers` added or overriding. */
  call(path: string, headers: http2.OutgoingHttpHeaders = {}): RawH2Call {
    return new RawH2Call(
      this.session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers }, { endStream: false }),
    );
  }

  /** A Support call by `user` (`authorization: token <user>`). */
  chat(method: 'ChatCustomer' | 'ChatAgent', user: string, headers: http2.OutgoingHttpHeaders = {}): RawH2Call {
    return this.call(`/Support/${method}`, { authorization: `token ${user}`, ...headers });
  }

  /** Cuts the TCP connection without a GOAWAY: a FIN, or (with `reset`) a TCP RST. */
  cutAbruptly(reset = false): void {
    if (reset) this.socket.resetAndDestroy();
    else this.socket.destroy();
    this.session.destroy();
  }

  close(): void {
    this.session.destroy();
    this.socket.destroy();
  }
}

/**
 * Writes `bytes` on a plain TCP connection to `address` and collects what comes back; `isClosed`
 * tells once the server has closed the connection.
 */
export function rawTcp(address: string, bytes: Buffer): { received: () => Buffer; isClosed: () => boolean; destroy: () => void } {
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  const socket = net.connect(port, address.slice(0, address.lastIndexOf(':')));
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => {});
  socket.on('close', () => (closed = true));
  socket.write(bytes);
  return { received: () => Buffer.concat(chunks), isClosed: () => closed, destroy: () => socket.destroy() };
}

/** The HTTP/2 frames (type, flags, stream, payload) in `bytes`, as far as they are complete. */
export function parseH2Frames(bytes: Buffer): Array<{ type: number; flags: number; streamId: number; payload: Buffer }> {
  const parsed = [];
  for (let at = 0; at + 9 <= bytes.length; ) {
    const length = bytes.readUIntBE(at, 3);
    if (at + 9 + length > bytes.length) break;
    parsed.push({ type: bytes[at + 3]!, flags: bytes[at + 4]!, streamId: bytes.readUInt32BE(at + 5) & 0x7fffffff, payload: bytes.subarray(at + 9, at + 9 + length) });
    at += 9 + length;
  }
  return parsed;
}

/** One raw HTTP/2 frame. */
export function h2Frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

export const H2_FRAME_GOAWAY = 0x7;
/** The client connection preface, then an empty SETTINGS frame: a valid start of an HTTP/2 connection. */
export const H2_PREFACE_AND_SETTINGS = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);
