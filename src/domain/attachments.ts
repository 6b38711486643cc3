import type { StreamId } from './event-bus';

/** A stream as attendance sees it: its id, and how to end it when another stream of the same user takes its place. */
export type AttachedStream = Readonly<{ id: StreamId; displace: () => void }>;

/**
 * Which live streams are attached to which open session (SPEC §3-4, §8): at most one stream per
 * customer and per agent id in a session, over the whole deployment. Attaching a second one
 * displaces the first, wherever it is. It decides takeover, "the last agent left: back to the
 * queue", and whether the idle timeout may end a session.
 */
export interface Attachments {
  /** Attaches the session's customer stream, displacing the one it replaces. */
  attachCustomer(sessionId: string, stream: AttachedStream): Promise<void>;
  /** Detaches `streamId` if it is still the session's customer stream; true if it was. */
  detachCustomer(sessionId: string, streamId: StreamId): Promise<boolean>;
  /**
   * Attaches an agent's stream, displacing that agent's previous stream in the session. True if no
   * other agent was attached: this agent takes the session out of the awaiting queue.
   */
  attachAgent(sessionId: string, agentId: string, stream: AttachedStream): Promise<boolean>;
  /**
   * Detaches `streamId` if it is still `agentId`'s stream in the session. With `requeueAt`, if no
   * agent is left, the session rejoins the awaiting queue at its end, in the same step (so two
   * agents leaving at once never both think the other stays). True if the session rejoined the queue.
   */
  detachAgent(sessionId: string, agentId: string, streamId: StreamId, requeueAt?: Date): Promise<boolean>;
  /** Whether a customer stream is attached to the session, on any live instance. */
  hasCustomer(sessionId: string): Promise<boolean>;
  /** Agent streams attached to sessions, over every live instance (the admin service's queue statistics). */
  attachedAgentCount(): Promise<number>;
  /** The sessions whose customer stream is attached on this instance (presence is recorded per instance). */
  localSessionsWithCustomer(): string[];
  /** Sessions with a stream attached on this instance (leak checks). */
  readonly localSessionCount: number;
}
