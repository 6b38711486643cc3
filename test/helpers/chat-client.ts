import * as grpc from '@grpc/grpc-js';
import {
  SupportClient,
  type ChatAgentRequest,
  type ChatAgentResponse,
  type ChatCustomerRequest,
  type ChatCustomerResponse,
  type Session,
} from '../../gen/support';
import { waitFor } from './wait';

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * A generated Support client on `address`; close it with `client.close()`. grpc-js shares one
 * connection among clients of the same address unless `ownConnection` is asked for.
 */
export function connect(address: string, { ownConnection = false } = {}): SupportClient {
  const options = ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {};
  return new SupportClient(address, grpc.credentials.createInsecure(), options);
}

/** Metadata `authorization: token <user>`. */
export function tokenFor(user: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `token ${user}`);
  return metadata;
}

/**
 * One client stream, recorded: every response and the final status, with waits on conditions
 * instead of sleeps.
 */
export class RecordedStream<Req, Res> {
  readonly responses: Res[] = [];
  status: grpc.StatusObject | undefined;
  private read = 0;

  constructor(readonly call: grpc.ClientDuplexStream<Req, Res>) {
    call.on('data', (response: Res) => this.responses.push(response));
    call.on('status', (status: grpc.StatusObject) => (this.status = status));
    call.on('error', () => {}); // the status event carries it
  }

  write(request: Req): void {
    this.call.write(request);
  }

  /** The next response not yet taken by `next`. */
  async next(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Res> {
    await waitFor(() => this.responses.length > this.read || this.status !== undefined, timeoutMs, 'a response');
    if (this.responses.length <= this.read) {
      throw new Error(`stream ended with ${grpc.status[this.status!.code]} (${this.status!.details}) instead of a response`);
    }
    return this.responses[this.read++]!;
  }

  /** Responses received and not yet taken by `next`. */
  unread(): Res[] {
    return this.responses.slice(this.read);
  }

  /** Waits until `count` responses were received after those taken by `next`, and takes them. */
  async take(count: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Res[]> {
    await waitFor(() => this.responses.length >= this.read + count || this.status !== undefined, timeoutMs, `${count} responses`);
    if (this.responses.length < this.read + count) throw new Error(`stream ended with ${this.status?.code} after ${this.responses.length - this.read} of ${count} responses`);
    const taken = this.responses.slice(this.read, this.read + count);
    this.read += count;
    return taken;
  }

  /** The final status (waits for it). */
  async ended(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<grpc.StatusObject> {
    await waitFor(() => this.status !== undefined, timeoutMs, 'the end of the stream');
    return this.status!;
  }

  /** Waits for the end and returns its code. */
  async endCode(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<grpc.status> {
    return (await this.ended(timeoutMs)).code;
  }

  /** Half-closes the request side. */
  end(): void {
    this.call.end();
  }

  cancel(): void {
    this.call.cancel();
  }
}

/** A customer's ChatCustomer stream with helpers for each request. */
export class CustomerStream extends RecordedStream<ChatCustomerRequest, ChatCustomerResponse> {
  /** `metadata` defaults to the demo token of `user`. */
  constructor(client: SupportClient, readonly user: string, metadata = tokenFor(user)) {
    super(client.chatCustomer(metadata));
  }

  /** Sends init and returns the session it connects to. */
  async init(resumeSessionId = ''): Promise<Session> {
    this.sendInit(resumeSessionId);
    const response = await this.next();
    if (response.resp?.$case !== 'session') throw new Error(`expected a session, got ${JSON.stringify(response)}`);
    return response.resp.value;
  }

  sendInit(resumeSessionId = ''): void {
    this.write({ req: { $case: 'init', value: { resumeSessionId } } });
  }

  send(text: string): void {
    this.write({ req: { $case: 'msg', value: text } });
  }

  hangUp(): void {
    this.write({ req: { $case: 'hangUp', value: 0 } });
  }
}

/** An agent's ChatAgent stream with helpers for each request. */
export class AgentStream extends RecordedStream<ChatAgentRequest, ChatAgentResponse> {
  /** `metadata` defaults to the demo token of `user`. */
  constructor(client: SupportClient, readonly user: string, metadata = tokenFor(user)) {
    super(client.chatAgent(metadata));
  }

  /** Sends accept and returns the session it joins. */
  async accept(sessionId = ''): Promise<Session> {
    this.sendAccept(sessionId);
    const response = await this.next();
    if (response.resp?.$case !== 'acceptedSession') throw new Error(`expected an accepted session, got ${JSON.stringify(response)}`);
    return response.resp.value;
  }

  sendAccept(sessionId = ''): void {
    this.write({ req: { $case: 'accept', value: { sessionId } } });
  }

  send(text: string): void {
    this.write({ req: { $case: 'msg', value: text } });
  }

  leave(): void {
    this.write({ req: { $case: 'leaveSession', value: 0 } });
  }
}

/** The text of a ChatEntry-like response, for compact assertions. */
export function describeAgentResponse(response: ChatAgentResponse): string {
  const resp = response.resp;
  if (resp?.$case === 'msg') {
    const entry = resp.value.entry;
    if (entry?.$case === 'customerMsg') return `customer: ${entry.value}`;
    if (entry?.$case === 'agentMsg') return `${entry.value.agentName}: ${entry.value.msg}`;
  }
  if (resp?.$case === 'sessionEnded') return 'session ended';
  return JSON.stringify(response);
}

/** The text of a customer response, for compact assertions. */
export function describeCustomerResponse(response: ChatCustomerResponse): string {
  const resp = response.resp;
  if (resp?.$case === 'msg') return `${resp.value.agentName}: ${resp.value.msg}`;
  return JSON.stringify(response);
}

/** A history as `author: text` lines. */
export function describeHistory(session: Session): string[] {
  return session.history.map((entry) =>
    entry.entry?.$case === 'customerMsg' ? `customer: ${entry.entry.value}` : `${entry.entry?.value.agentName}: ${entry.entry?.value.msg}`,
  );
}

/** Makers of streams on the client `client()` returns (set per test), with default users. */
export function streamsOf(client: () => SupportClient): { customer: (user?: string) => CustomerStream; agent: (user?: string) => AgentStream } {
  return {
    customer: (user = 'joe') => new CustomerStream(client(), user),
    agent: (user = 'agent-a') => new AgentStream(client(), user),
  };
}

/** The agent stream's next response, described (see describeAgentResponse). */
export async function nextDescribed(stream: AgentStream): Promise<string> {
  return describeAgentResponse(await stream.next());
}
