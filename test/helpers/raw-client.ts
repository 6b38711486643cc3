import http2 from 'node:http2';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { RecordedStream, tokenFor } from './chat-client';

/**
 * A grpc-js client whose methods send and receive raw bytes, for requests that the generated
 * encoders cannot produce (invalid UTF-8, garbage).
 */
const RawSupportClient = grpc.makeGenericClientConstructor(
  {
    ChatCustomer: rawMethod('/Support/ChatCustomer'),
    ChatAgent: rawMethod('/Support/ChatAgent'),
  },
  'Support',
);

function rawMethod(path: string): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path,
    requestStream: true,
    responseStream: true,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  };
}

export type RawBytesClient = grpc.Client & {
  ChatCustomer: (metadata: grpc.Metadata) => grpc.ClientDuplexStream<Buffer, Buffer>;
  ChatAgent: (metadata: grpc.Metadata) => grpc.ClientDuplexStream<Buffer, Buffer>;
};

/** A raw-bytes Support client on `address`; close it with `client.close()`. */
export function connectRaw(address: string): RawBytesClient {
  return new RawSupportClient(address, grpc.credentials.createInsecure()) as unknown as RawBytesClient;
}

/** A recorded raw-bytes stream of `method` for `user`. */
export function rawStream(client: RawBytesClient, method: 'ChatCustomer' | 'ChatAgent', user: string): RecordedStream<Buffer, Buffer> {
  return new RecordedStream<Buffer, Buffer>(client[method](tokenFor(user)));
}

/** What a gRPC call made with hand-written headers answered: a status, a reset, or (to a request) a reply. */
export type RawCallResult = {
  /** grpc-status from the trailers (or a trailers-only response); undefined if the stream was reset or replied. */
  code: number | undefined;
  details: string | undefined;
  /** The HTTP/2 RST_STREAM code when the stream was reset without a gRPC status. */
  rstCode: number | undefined;
  /** The first response message (its payload), when the call answered the request with one. */
  reply?: Buffer;
};

/** An HPACK "literal header field without indexing, new name" block, without Huffman coding. */
function hpackLiterals(headers: ReadonlyArray<readonly [string, string]>): Buffer {
  const parts: Buffer[] = [];
  const str = (s: string) => {
    const bytes = Buffer.from(s, 'latin1');
    parts.push(hpackInt(bytes.length, 7, 0x00), bytes);
  };
  for (const [name, value] of headers) {
    parts.push(Buffer.from([0x00]));
    str(name);
    str(value);
  }
  return Buffer.concat(parts);
}

function hpackInt(value: number, prefixBits: number, firstByte: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([firstByte | value]);
  const bytes = [firstByte | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

const FRAME_HEADERS = 0x1;
const FLAG_END_STREAM = 0x1;
const FLAG_END_HEADERS = 0x4;

/**
 * A TCP proxy in front of `address` that forwards an HTTP/2 connection unchanged, except that it
 * replaces the client's HEADERS frame with `headerBlock` (so that header values that Node's client
 * refuses, e.g. repeated `authorization` or control characters, reach the server exactly as given).
 */
async function startHeaderRewritingProxy(address: string, headerBlock: Buffer): Promise<{ port: number; close: () => void }> {
  const [host, portText] = [address.slice(0, address.lastIndexOf(':')), address.slice(address.lastIndexOf(':') + 1)];
  const sockets = new Set<net.Socket>();
  const proxy = net.createServer((downstream) => {
    const upstream = net.connect(Number(portText), host);
    sockets.add(downstream).add(upstream);
    upstream.pipe(downstream);
    let pending = Buffer.alloc(0);
    let prefaceDone = false;
    downstream.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (!prefaceDone) {
        if (pending.length < 24) return;
        upstream.write(pending.subarray(0, 24));
        pending = pending.subarray(24);
        prefaceDone = true;
      }
      while (pending.length >= 9) {
        const length = pending.readUIntBE(0, 3);
        if (pending.length < 9 + length) return;
        const type = pending[3]!;
        const flags = pending[4]!;
        const streamId = pending.readUInt32BE(5) & 0x7fffffff;
        const frame = pending.subarray(0, 9 + length);
        pending = pending.subarray(9 + length);
        if (type === FRAME_HEADERS) {
          const header = Buffer.alloc(9);
          header.writeUIntBE(headerBlock.length, 0, 3);
          header[3] = FRAME_HEADERS;
          header[4] = FLAG_END_HEADERS | (flags & FLAG_END_STREAM);
          header.writeUInt32BE(streamId, 5);
          upstream.write(Buffer.concat([header, headerBlock]));
        } else {
          upstream.write(frame);
        }
      }
    });
    const closeBoth = () => {
      downstream.destroy();
      upstream.destroy();
    };
    downstream.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as net.AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      proxy.close();
    },
  };
}

/**
 * One gRPC call of `path` on `address` whose `authorization` header fields are exactly
 * `authorization` (none, one, or several; any bytes, as latin1). Without `request` it sends no
 * request and keeps the request side open, so a status can only come from the metadata. With
 * `request` (one framed request, see robustness-h2.ts `frames`) it sends that and resolves with
 * the first reply, so that an accepted call is proven by an answer, not by a silence. Rejects if
 * nothing comes within `timeoutMs`.
 */
export async function callWithAuthorization(
  address: string,
  path: string,
  authorization: readonly string[],
  { request, timeoutMs = 5_000 }: { request?: Uint8Array; timeoutMs?: number } = {},
): Promise<RawCallResult> {
  const block = hpackLiterals([
    [':method', 'POST'],
    [':scheme', 'http'],
    [':path', path],
    [':authority', address],
    ['content-type', 'application/grpc'],
    ['te', 'trailers'],
    ...authorization.map((value) => ['authorization', value] as const),
  ]);
  const proxy = await startHeaderRewritingProxy(address, block);
  const session = http2.connect(`http://127.0.0.1:${proxy.port}`);
  try {
    return await new Promise<RawCallResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${path}: no status${request ? ' or reply' : ''} within ${timeoutMs} ms`)), timeoutMs);
      const done = (result: RawCallResult) => {
        clearTimeout(timer);
        resolve(result);
      };
      session.on('error', (err: Error) => {
        clearTimeout(timer);
        reject(err);
      });
      const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' }, { endStream: false });
      const take = (h: http2.IncomingHttpHeaders) => {
        const s = h['grpc-status'];
        if (typeof s !== 'string') return;
        const m = h['grpc-message'];
        done({ code: Number(s), details: typeof m === 'string' ? decodeURIComponent(m) : undefined, rstCode: undefined });
      };
      req.on('response', take);
      req.on('trailers', take);
      let received = Buffer.alloc(0);
      req.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.length >= 5 && received.length >= 5 + received.readUInt32BE(1)) {
          done({ code: undefined, details: undefined, rstCode: undefined, reply: received.subarray(5, 5 + received.readUInt32BE(1)) });
        }
      });
      if (request) req.write(request);
      req.on('error', () => {});
      req.on('close', () => done({ code: undefined, details: undefined, rstCode: req.rstCode }));
    });
  } finally {
    session.destroy();
    proxy.close();
  }
}
