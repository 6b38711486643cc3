import type { StreamId } from './event-bus';

/** A stream as the attachment registry sees it: an id, and a way to end it when another stream takes over. */
export type AttachedStream = Readonly<{ id: StreamId; takeOver: () => void }>;

type SessionAttachments = { customer?: AttachedStream; agents: Map<string, AttachedStream> };

/**
 * Which live streams are attached to which open session, in this process. No stream survives a
 * restart, so this is memory only. At most one stream per customer and per agent id is attached
 * to a session: attaching a second one returns the first, which the caller takes over.
 */
export class Attachments {
  private readonly sessions = new Map<string, SessionAttachments>();

  /** Attaches the session's customer stream; returns the stream it replaces, if any. */
  attachCustomer(sessionId: string, stream: AttachedStream): AttachedStream | undefined {
    const session = this.session(sessionId);
    const previous = session.customer;
    session.customer = stream;
    return previous;
  }

  /** Detaches `streamId` if it is still the session's customer stream; true if it was. */
  detachCustomer(sessionId: string, streamId: StreamId): boolean {
    const session = this.sessions.get(sessionId);
    if (session?.customer?.id !== streamId) return false;
    session.customer = undefined;
    this.forgetIfEmpty(sessionId, session);
    return true;
  }

  hasCustomer(sessionId: string): boolean {
    return this.sessions.get(sessionId)?.customer !== undefined;
  }

  /** The sessions that have a customer stream attached. */
  sessionsWithCustomer(): string[] {
    return [...this.sessions].filter(([, session]) => session.customer !== undefined).map(([id]) => id);
  }

  /** Attaches an agent's stream; returns that agent's previous stream on the session, if any. */
  attachAgent(sessionId: string, agentId: string, stream: AttachedStream): AttachedStream | undefined {
    const agents = this.session(sessionId).agents;
    const previous = agents.get(agentId);
    agents.set(agentId, stream);
    return previous;
  }

  /** Detaches `streamId` if it is still `agentId`'s stream on the session; says how many agents remain. */
  detachAgent(sessionId: string, agentId: string, streamId: StreamId): { detached: boolean; agentsLeft: number } {
    const session = this.sessions.get(sessionId);
    if (!session) return { detached: false, agentsLeft: 0 };
    const detached = session.agents.get(agentId)?.id === streamId;
    if (detached) session.agents.delete(agentId);
    const agentsLeft = session.agents.size;
    this.forgetIfEmpty(sessionId, session);
    return { detached, agentsLeft };
  }

  /** Sessions with at least one attached stream (leak checks). */
  get size(): number {
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
