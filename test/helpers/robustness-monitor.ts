import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SupportClient } from '../../gen/support';
import { AgentStream, CustomerStream, describeAgentResponse, describeCustomerResponse } from './chat-client';
import { logRecords, spawnServer, waitForListening, type ServerProcess } from './server-process';

/** The resident set size of process `pid` in MB (VmRSS in /proc), or undefined once it is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every `intervalMs` and keeps the peak. */
export class RssSampler {
  peakMb = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 50,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Takes a sample now and returns it. */
  sample(): number {
    const now = rssMb(this.pid) ?? 0;
    this.peakMb = Math.max(this.peakMb, now);
    return now;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * A Support client on an HTTP/2 connection of its own. grpc-js shares one connection among all
 * clients of the same address and options (its global subchannel pool); a local pool does not.
 */
export function ownConnection(address: string): SupportClient {
  return new SupportClient(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
}

/** The built server as a child process on `dbFile`, with its address once it listens. */
export async function startServerProcess(dbFile: string, flags: string[] = []): Promise<{ server: ServerProcess; address: string }> {
  const server = spawnServer(['--port', '0', '--db', dbFile, ...flags], { cwd: path.dirname(dbFile) });
  const port = await waitForListening(server);
  return { server, address: `127.0.0.1:${port}` };
}

/** Log records of level `error` (and `warn`), which none of these tests expects. */
export function errorRecords(server: ServerProcess): Record<string, unknown>[] {
  return logRecords(server).filter((r) => r.level === 'error' || r.level === 'warn');
}

/** How many streams of users matching `users` the log shows started, and how many of those ended. */
export function streamBalance(server: ServerProcess, users: (user: string) => boolean): { started: number; ended: number; open: string[] } {
  const started = new Map<string, number>();
  const ended = new Map<string, number>();
  for (const r of logRecords(server)) {
    const user = typeof r.user === 'string' ? r.user : undefined;
    if (!user || !users(user)) continue;
    if (r.msg === 'stream started') started.set(user, (started.get(user) ?? 0) + 1);
    if (r.msg === 'stream ended') ended.set(user, (ended.get(user) ?? 0) + 1);
  }
  const open = [...started].filter(([user, n]) => (ended.get(user) ?? 0) < n).map(([user]) => user);
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  return { started: sum(started), ended: sum(ended), open };
}

/** The texts of an agent stream's `msg` responses (entries), in order. */
export function agentTexts(agent: AgentStream): string[] {
  return agent.responses.filter((r) => r.resp?.$case === 'msg').map(describeAgentResponse);
}

/** The texts of a customer stream's agent messages, in order. */
export function customerTexts(customer: CustomerStream): string[] {
  return customer.responses.filter((r) => r.resp?.$case === 'msg').map(describeCustomerResponse);
}

/**
 * A complete short conversation on a connection of its own: a new session, an agent accepts it,
 * one message each way, the customer hangs up and the agent sees the end. Throws if any step fails.
 */
export async function proveServerServes(address: string, tag: string): Promise<void> {
  const client = ownConnection(address);
  try {
    const customer = new CustomerStream(client, `probe-${tag}`);
    const { sessionId } = await customer.init();
    const agent = new AgentStream(client, `agent-probe-${tag}`);
    await agent.accept(sessionId);
    customer.send(`hello from ${tag}`);
    if (describeAgentResponse(await agent.next()) !== `customer: hello from ${tag}`) throw new Error('the agent did not get the customer message');
    agent.send(`answer to ${tag}`);
    if (describeCustomerResponse(await customer.next()) !== `agent-probe-${tag}: answer to ${tag}`) throw new Error('the customer did not get the agent message');
    customer.hangUp();
    if (describeAgentResponse(await agent.next()) !== 'session ended') throw new Error('the agent did not see the session end');
    customer.end();
    agent.end();
    await customer.ended();
    await agent.ended();
  } finally {
    client.close();
  }
}
