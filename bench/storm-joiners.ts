/**
 * The joiners of the join storm (join-storm.ts), in a process of their own: 20 agents (each its own
 * user) join the session given on the command line and leave it again, over and over, as fast as
 * the server lets them; one refused for its rate waits a little and opens a new stream. Replies
 * are counted as raw bytes, never decoded. When stdin closes, it prints its counts as JSON.
 *
 * usage: node dist/bench/storm-joiners.js <address> <session id>
 */
import * as grpc from '@grpc/grpc-js';
import { ChatAgentRequest } from '../gen/support';

const JOINERS = 20;
/** How long a joiner refused for its rate waits before it opens a new stream and tries again. */
const RETRY_AFTER_REFUSAL_MS = 500;

const RawAgentClient = grpc.makeGenericClientConstructor(
  {
    ChatAgent: {
      path: '/Support/ChatAgent',
      requestStream: true,
      responseStream: true,
      requestSerialize: (bytes: Buffer) => bytes,
      requestDeserialize: (bytes: Buffer) => bytes,
      responseSerialize: (bytes: Buffer) => bytes,
      responseDeserialize: (bytes: Buffer) => bytes,
    },
  },
  'Support',
);
type RawAgentStream = grpc.ClientDuplexStream<Buffer, Buffer>;

/** One agent joining and leaving the session in a loop; refused for its rate, it waits and opens a new stream. */
class Joiner {
  served = 0;
  bytes = 0;
  refused = 0;
  private running = false;
  private call: RawAgentStream | undefined;
  private readonly client: grpc.Client & { ChatAgent: (metadata: grpc.Metadata) => RawAgentStream };
  private readonly accept: Buffer;
  private readonly leave = Buffer.from(ChatAgentRequest.encode({ req: { $case: 'leaveSession', value: 0 } }).finish());

  constructor(
    address: string,
    private readonly agentId: string,
    sessionId: string,
  ) {
    this.client = new RawAgentClient(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }) as unknown as typeof this.client;
    this.accept = Buffer.from(ChatAgentRequest.encode({ req: { $case: 'accept', value: { sessionId } } }).finish());
  }

  start(): void {
    this.running = true;
    this.open();
  }

  stop(): void {
    this.running = false;
    this.call?.cancel();
    this.client.close();
  }

  private open(): void {
    if (!this.running) return;
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `token ${this.agentId}`);
    const call = (this.call = this.client.ChatAgent(metadata));
    call.on('data', (reply: Buffer) => {
      this.served++;
      this.bytes += reply.length;
      call.write(this.leave);
      if (this.running) call.write(this.accept);
    });
    call.on('error', () => {}); // the status says it
    call.on('status', (status: grpc.StatusObject) => {
      if (status.code === grpc.status.RESOURCE_EXHAUSTED) this.refused++;
      if (this.running) setTimeout(() => this.open(), RETRY_AFTER_REFUSAL_MS);
    });
    call.write(this.accept);
  }
}

const [address, sessionId] = process.argv.slice(2);
if (!address || !sessionId) throw new Error('usage: storm-joiners <address> <session id>');
const joiners = Array.from({ length: JOINERS }, (_, i) => new Joiner(address, `agent-storm-${i}`, sessionId));
joiners.forEach((joiner) => joiner.start());
process.stdin.resume();
process.stdin.on('end', () => {
  joiners.forEach((joiner) => joiner.stop());
  const sum = (pick: (joiner: Joiner) => number) => joiners.reduce((total, joiner) => total + pick(joiner), 0);
  process.stdout.write(JSON.stringify({ served: sum((j) => j.served), bytes: sum((j) => j.bytes), refused: sum((j) => j.refused) }) + '\n');
  process.exit(0);
});
