import type { AttachedStream, Attachments } from '../domain/attachments';
import type { StreamId } from '../domain/event-bus';
import type { SessionStore } from '../domain/session-store';

type SessionAttachments = { customer?: AttachedStream | undefined; agents: Map<string, AttachedStream> };

/**
 * Attachments of a single server process: memory only, since no stream survives a restart. Each
 * change is made at once, when the method is called, before any await: a racing detach of the
 * last other agent always sees an agent that attached before it.
 */
export class InProcessAttachments implements Attachments {
  private readonly sessions = new Map<string, SessionAttachments>();

  constructor(private readonly store: Pick<SessionStore, 'markAwaiting' | 'findSession'>) {}

  async attachCustomer(sessionId: string, stream: AttachedStream): Promise<void> {
    const session = this.session(sessionId);
    const previous = session.customer;
    session.customer = stream;
    previous?.displace();
  }

  async detachCustomer(sessionId: string, streamId: StreamId): Promise<boolean> {
    const session = this.sessions.get(sessionId);
    if (session?.customer?.id !== streamId) return false;
    session.customer = undefined;
    this.forgetIfEmpty(sessionId, session);
    return true;
  }

  async attachAgent(sessionId: string, agentId: string, stream: AttachedStream): Promise<boolean> {
    const agents = this.session(sessionId).agents;
    const previous = agents.get(agentId);
    const first = agents.size === (previous ? 1 : 0);
    agents.set(agentId, stream);
    previous?.displace();
    return first;
  }

  async detachAgent(sessionId: string, agentId: string, streamId: StreamId, requeueAt?: Date): Promise<boolean> {
    const session = this.sessions.get(sessionId);
    if (session?.agents.get(agentId)?.id !== streamId) return false;
    session.agents.delete(agentId);
    const agentsLeft = session.agents.size;
    this.forgetIfEmpty(sessionId, session);
    if (!requeueAt || agentsLeft > 0) return false;
    await this.store.markAwaiting(sessionId, requeueAt);
    // Only an open session rejoins the queue (one ended meanwhile stays ended).
    return (await this.store.findSession(sessionId))?.state === 'open';
  }

  async hasCustomer(sessionId: string): Promise<boolean> {
    return this.sessions.get(sessionId)?.customer !== undefined;
  }

  async attachedAgentCount(): Promise<number> {
    let agents = 0;
    for (const session of this.sessions.values()) agents += session.agents.size;
    return agents;
  }

  localSessionsWithCustomer(): string[] {
    return [...this.sessions].filter(([, session]) => session.customer !== undefined).map(([id]) => id);
  }

  get localSessionCount(): number {
    return this.sessions.size;
  }

  private session(sessionId: string): SessionAttachments {
    let session = this.sessions.get(sessionId);
    if (!session) this.sessions.set(sessionId, (session = { agents: new Map() }));
    return session;
  }

  private forgetIfEmpty(sessionId: string, session: SessionAttachments): void {
    if (!session.customer && session.agents.size === 0) this.sessions.delete(sessionId);
  }
}
