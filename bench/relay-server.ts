/**
 * The bare relay: the same two RPCs on grpc-js, in memory, with no persistence, validation or
 * logging. The benchmark measures it beside the real server so the cost of everything the real
 * server adds is visible. Not a product: it ignores every rule it does not need to relay messages.
 */
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { SupportService, type ChatAgentRequest, type ChatAgentResponse, type ChatCustomerRequest, type ChatCustomerResponse, type ChatEntry, type SupportServer } from '../gen/support';

type Session = {
  id: string;
  customer: string;
  history: ChatEntry[];
  customerCall?: grpc.ServerDuplexStream<ChatCustomerRequest, ChatCustomerResponse>;
  agents: Set<grpc.ServerDuplexStream<ChatAgentRequest, ChatAgentResponse>>;
};

const sessions = new Map<string, Session>();
const queue: Session[] = [];

function userOf(call: { metadata: grpc.Metadata }): string {
  return String(call.metadata.get('authorization')[0] ?? '').slice('token '.length).toLowerCase();
}

const relay: SupportServer = {
  chatCustomer(call) {
    let session: Session | undefined;
    call.on('data', (request: ChatCustomerRequest) => {
      const req = request.req;
      if (req?.$case === 'init') {
        session = sessions.get(req.value.resumeSessionId);
        if (!session) {
          session = { id: randomBytes(16).toString('base64url'), customer: userOf(call), history: [], agents: new Set() };
          sessions.set(session.id, session);
          queue.push(session);
        }
        session.customerCall = call;
        call.write({ resp: { $case: 'session', value: { sessionId: session.id, customerName: session.customer, history: session.history } } });
      } else if (req?.$case === 'msg' && session) {
        const entry: ChatEntry = { date: new Date(), entry: { $case: 'customerMsg', value: req.value } };
        session.history.push(entry);
        for (const agent of session.agents) agent.write({ resp: { $case: 'msg', value: entry } });
      }
    });
    call.on('end', () => call.end());
    call.on('error', () => {});
  },
  chatAgent(call) {
    let session: Session | undefined;
    const agentName = userOf(call);
    call.on('data', (request: ChatAgentRequest) => {
      const req = request.req;
      if (req?.$case === 'accept') {
        session = req.value.sessionId ? sessions.get(req.value.sessionId) : queue.shift();
        if (!session) return call.emit('error', { code: grpc.status.FAILED_PRECONDITION, details: 'none' });
        session.agents.add(call);
        call.write({ resp: { $case: 'acceptedSession', value: { sessionId: session.id, customerName: session.customer, history: session.history } } });
      } else if (req?.$case === 'msg' && session) {
        const entry: ChatEntry = { date: new Date(), entry: { $case: 'agentMsg', value: { agentName, msg: req.value } } };
        session.history.push(entry);
        session.customerCall?.write({ resp: { $case: 'msg', value: { agentName, msg: req.value } } });
        for (const agent of session.agents) if (agent !== call) agent.write({ resp: { $case: 'msg', value: entry } });
      }
    });
    call.on('end', () => call.end());
    call.on('error', () => {});
  },
};

const server = new grpc.Server();
server.addService(SupportService, relay);
server.bindAsync(`127.0.0.1:${process.argv[2] ?? '0'}`, grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(JSON.stringify({ msg: `listening on 127.0.0.1:${port}` }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
