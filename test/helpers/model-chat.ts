import { status } from '@grpc/grpc-js';

// A reference model of the Support service (SPEC §2-5), for test/model-based.test.ts. It has no
// I/O: given the requests of a few actors, one at a time, it predicts every response and status
// of every stream, the awaiting queue, and how many requests / stream ends the server handles per
// user. Responses are predicted as short descriptions; the test describes real responses the same
// way (session ids become S<key>, user ids lose their per-run suffix) and compares them.

export type Role = 'customer' | 'agent';

/** One actor: a device of a user, owning at most one open stream at a time. */
export type ActorSpec = Readonly<{ label: string; role: Role; user: string }>;

/** A history entry: `author` is `customer` or the agent's (short) id. */
export type ModelEntry = Readonly<{ author: string; text: string }>;

export type ModelSession = {
  readonly key: number;
  readonly owner: string;
  open: boolean;
  readonly history: ModelEntry[];
  /** The attached customer stream (index into `streams`). */
  customer: number | undefined;
  /** Attached agent streams by agent id. */
  readonly agents: Map<string, number>;
};

export type ModelStream = {
  readonly index: number;
  readonly actor: number;
  /** Every response this stream should have received, in order. */
  readonly expected: string[];
  /** Positions in `expected` that are the reply of an init{} creating session `key` (its id is learnt there). */
  readonly newSessionAt: Map<number, number>;
  /** The status the stream ended with, once the model says it ended. */
  status: status | undefined;
  /** The session the stream is attached to (connected), if any. */
  session: number | undefined;
};

export type ModelActor = ActorSpec & { current: number | undefined };

/**
 * Which session a resume / accept{X} names, chosen among the sessions that exist when it runs.
 * `own-attached`: an open session of this customer that another of its streams is attached to (a
 * takeover); `attended`: an open session another agent is attached to; `mine`: an open session
 * another stream of this agent is attached to (a takeover).
 */
export type ResumeTarget = 'own-open' | 'own-attached' | 'own-ended' | 'other-customer' | 'unknown';
export type AcceptTarget = 'open' | 'attended' | 'mine' | 'ended' | 'unknown';

/**
 * A step of an actor. Requests are generated for the state they fit (init/accept on a disconnected
 * stream, msg/hang_up/leave on a connected one) unless `anyState` is set, which lets them run in
 * whatever state the stream is in, wrong ones included.
 */
export type Op = (
  | { t: 'open' }
  | { t: 'halfClose' }
  | { t: 'cancel' }
  | { t: 'msg' }
  // customer
  | { t: 'init' }
  | { t: 'resume'; target: ResumeTarget; pick: number }
  | { t: 'hangUp' }
  // agent
  | { t: 'acceptNext' }
  | { t: 'acceptId'; target: AcceptTarget; pick: number }
  | { t: 'leave' }
) & { anyState?: boolean };

/** What the real side must do for a step. */
export type Plan =
  | { kind: 'open'; actor: number; stream: number }
  | { kind: 'halfClose' | 'cancel'; actor: number; stream: number }
  | { kind: 'init' | 'accept'; actor: number; stream: number; session: SessionRef }
  | { kind: 'msg'; actor: number; stream: number; text: string }
  | { kind: 'hangUp' | 'leave'; actor: number; stream: number }
  | { kind: 'restart' };

/** The session id a request carries: none (new / from the queue), a known session, or an id that never existed. */
export type SessionRef = { kind: 'none' } | { kind: 'key'; key: number } | { kind: 'unknown'; id: string };

/** Every transition the model tells apart; model-based.test.ts checks that the random runs reach each often. */
export const TRANSITIONS = [
  'init{}: new session',
  'too many open sessions',
  'init while connected',
  'resume of an own open session',
  'customer takeover',
  'resume of an ended session',
  'resume of another customer session',
  'resume of an unknown session',
  'customer msg to agents',
  'customer msg with no agent',
  'msg while disconnected',
  'hang_up',
  'session_ended to an agent',
  'hang_up while disconnected',
  'accept{} from the queue',
  'accept{} with several sessions queued',
  'accept{} on an empty queue',
  'accept{X} of a queued session',
  'accept{X} of an attended session',
  'agent takeover',
  'accept of an ended session',
  'accept of an unknown session',
  'accept while connected',
  'agent msg to the customer',
  'agent msg to other agents',
  'leave_session',
  'leave while disconnected',
  'last agent left: session requeued',
  'last agent left: session requeued behind others',
  'half-close while connected',
  'half-close while disconnected',
  'cancel while connected',
  'cancel while disconnected',
  'restart',
  'attended sessions requeued by a restart',
] as const;
export type Transition = (typeof TRANSITIONS)[number];

export const CUSTOMER_OPS: readonly Op['t'][] = ['open', 'init', 'resume', 'msg', 'hangUp', 'halfClose', 'cancel'];
export const AGENT_OPS: readonly Op['t'][] = ['open', 'acceptNext', 'acceptId', 'msg', 'leave', 'halfClose', 'cancel'];

/** Requests that need a connected stream to do what they are for. */
export function needsConnection(op: Op): boolean {
  return op.t === 'msg' || op.t === 'hangUp' || op.t === 'leave';
}

export function opText(op: Op): string {
  return opName(op) + (op.anyState ? '(any state)' : '');
}

function opName(op: Op): string {
  switch (op.t) {
    case 'resume':
      return `init{resume ${op.target}#${op.pick}}`;
    case 'acceptId':
      return `accept{id ${op.target}#${op.pick}}`;
    case 'init':
      return 'init{}';
    case 'acceptNext':
      return 'accept{}';
    default:
      return op.t;
  }
}

export function describeHistory(history: readonly ModelEntry[]): string {
  return `[${history.map((e) => `${e.author}:${e.text}`).join(' ')}]`;
}

export class ChatModel {
  readonly sessions: ModelSession[] = [];
  /** Session keys awaiting an agent, oldest first. */
  queue: number[] = [];
  readonly streams: ModelStream[] = [];
  readonly actors: ModelActor[];
  /** Requests the server has finished handling, per user. */
  readonly handled = new Map<string, number>();
  /** Streams whose end the server has handled (detached), per user. */
  readonly closes = new Map<string, number>();
  /** Streams the server has seen start, per user. */
  readonly started = new Map<string, number>();
  /** How often each transition happened (to show the generator reaches them). */
  readonly coverage = new Map<Transition, number>();
  /** What the current step did, for the trace. */
  effects: string[] = [];
  private messages = 0;
  private unknowns = 0;

  constructor(
    actors: readonly ActorSpec[],
    readonly maxOpenSessions: number,
  ) {
    this.actors = actors.map((a) => ({ ...a, current: undefined }));
  }

  addActor(spec: ActorSpec): number {
    this.actors.push({ ...spec, current: undefined });
    return this.actors.length - 1;
  }

  /**
   * Whether `op` applies: `open` only without an open stream; other requests in the state they fit
   * (or any, see Op). A request needs an open stream: the runner opens one first (a separate
   * `open` step) if the actor has none; a request for a connected stream (msg, hang_up, leave)
   * connects it first if it can (a separate step, see `connectOp`), so that it is not wasted.
   */
  canRun(actor: number, op: Op): boolean {
    const a = this.actors[actor]!;
    if (!(a.role === 'customer' ? CUSTOMER_OPS : AGENT_OPS).includes(op.t)) return false;
    if (op.t === 'open') return a.current === undefined;
    if (!op.anyState) {
      const fits =
        op.t === 'halfClose' || op.t === 'cancel'
          ? a.current !== undefined
          : needsConnection(op)
            ? this.isConnected(actor) || this.connectOp(actor) !== undefined
            : !this.isConnected(actor);
      if (!fits) return false;
    }
    if (op.t === 'resume') return op.target === 'unknown' || this.resumeCandidates(a.user, op.target).length > 0;
    if (op.t === 'acceptId') return op.target === 'unknown' || this.acceptCandidates(a.user, op.target).length > 0;
    return true;
  }

  isConnected(actor: number): boolean {
    const current = this.actors[actor]!.current;
    return current !== undefined && this.streams[current]!.session !== undefined;
  }

  /**
   * The request that connects `actor`'s stream before a request that needs a connection: a
   * customer resumes one of its open sessions (the `pick`-th, which may be attached elsewhere: a
   * takeover) or starts one; an agent takes the next queued session, or joins an open one.
   * Undefined when there is nothing to connect to.
   */
  connectOp(actor: number, pick = 0): Op | undefined {
    const a = this.actors[actor]!;
    if (a.role === 'customer') return this.resumeCandidates(a.user, 'own-open').length > 0 ? { t: 'resume', target: 'own-open', pick } : { t: 'init' };
    if (this.queue.length > 0) return { t: 'acceptNext' };
    return this.acceptCandidates(a.user, 'open').length > 0 ? { t: 'acceptId', target: 'open', pick } : undefined;
  }

  streamLabel(index: number): string {
    return `${this.actors[this.streams[index]!.actor]!.label}/s${index}`;
  }

  /** Applies one request (or stream action) of `actor` and returns what the real side must do. */
  apply(actor: number, op: Op): Plan {
    this.effects = [];
    const a = this.actors[actor]!;
    if (op.t === 'open') {
      const index = this.streams.length;
      this.streams.push({ index, actor, expected: [], newSessionAt: new Map(), status: undefined, session: undefined });
      a.current = index;
      bump(this.started, a.user);
      return { kind: 'open', actor, stream: index };
    }
    const i = a.current!;
    const st = this.streams[i]!;
    switch (op.t) {
      case 'halfClose':
        this.cover(st.session === undefined ? 'half-close while disconnected' : 'half-close while connected');
        this.end(i, status.OK);
        return { kind: 'halfClose', actor, stream: i };
      case 'cancel':
        this.cover(st.session === undefined ? 'cancel while disconnected' : 'cancel while connected');
        this.end(i, status.CANCELLED);
        return { kind: 'cancel', actor, stream: i };
      case 'msg': {
        bump(this.handled, a.user);
        const text = `m${++this.messages}`;
        if (st.session === undefined) {
          this.cover('msg while disconnected');
          this.end(i, status.FAILED_PRECONDITION);
          return { kind: 'msg', actor, stream: i, text };
        }
        const s = this.sessions[st.session]!;
        if (a.role === 'customer') {
          this.cover(s.agents.size > 0 ? 'customer msg to agents' : 'customer msg with no agent');
          s.history.push({ author: 'customer', text });
          for (const agentStream of s.agents.values()) this.push(agentStream, `entry customer:${text}`);
        } else {
          s.history.push({ author: a.user, text });
          if (s.customer !== undefined) this.push(s.customer, `msg ${a.user}:${text}`);
          for (const agentStream of s.agents.values()) if (agentStream !== i) this.push(agentStream, `entry ${a.user}:${text}`);
          if (s.agents.size > 1) this.cover('agent msg to other agents');
          if (s.customer !== undefined) this.cover('agent msg to the customer');
        }
        this.effects.push(`S${s.key} += ${text}`);
        return { kind: 'msg', actor, stream: i, text };
      }
      case 'init':
        return this.init(actor, i, { kind: 'none' });
      case 'resume': {
        const candidates = op.target === 'unknown' ? [] : this.resumeCandidates(a.user, op.target);
        const ref: SessionRef = candidates.length > 0 ? { kind: 'key', key: candidates[op.pick % candidates.length]! } : this.unknownRef();
        return this.init(actor, i, ref);
      }
      case 'hangUp': {
        bump(this.handled, a.user);
        if (st.session === undefined) {
          this.cover('hang_up while disconnected');
          this.end(i, status.FAILED_PRECONDITION);
          return { kind: 'hangUp', actor, stream: i };
        }
        const s = this.sessions[st.session]!;
        this.cover('hang_up');
        s.open = false;
        this.queue = this.queue.filter((k) => k !== s.key);
        for (const agentStream of s.agents.values()) {
          this.push(agentStream, 'session_ended');
          this.streams[agentStream]!.session = undefined;
          this.cover('session_ended to an agent');
        }
        s.agents.clear();
        s.customer = undefined;
        st.session = undefined;
        this.effects.push(`S${s.key} ended`);
        return { kind: 'hangUp', actor, stream: i };
      }
      case 'acceptNext':
        return this.accept(actor, i, { kind: 'none' });
      case 'acceptId': {
        const candidates = op.target === 'unknown' ? [] : this.acceptCandidates(a.user, op.target);
        const ref: SessionRef = candidates.length > 0 ? { kind: 'key', key: candidates[op.pick % candidates.length]! } : this.unknownRef();
        return this.accept(actor, i, ref);
      }
      case 'leave':
        bump(this.handled, a.user);
        this.cover(st.session === undefined ? 'leave while disconnected' : 'leave_session');
        if (st.session === undefined) this.end(i, status.FAILED_PRECONDITION);
        else this.detach(i, true);
        return { kind: 'leave', actor, stream: i };
    }
  }

  /**
   * The server stops (every open stream ends with UNAVAILABLE, no agent's departure requeues its
   * session) and starts again: the sessions that were awaiting keep their order, and the sessions
   * that were attended join behind them in order of creation (SPEC §2, §5).
   */
  restart(): Plan {
    this.effects = [];
    this.cover('restart');
    for (const a of this.actors) if (a.current !== undefined) this.end(a.current, status.UNAVAILABLE, false);
    const attended = this.sessions.filter((s) => s.open && !this.queue.includes(s.key)).map((s) => s.key);
    if (attended.length > 0) this.cover('attended sessions requeued by a restart');
    this.queue = [...this.queue, ...attended.sort((x, y) => x - y)];
    this.effects.push(`queue ${this.queueText()}`);
    return { kind: 'restart' };
  }

  queueText(): string {
    return `[${this.queue.map((k) => `S${k}`).join(' ')}]`;
  }

  describe(): string {
    const sessions = this.sessions.map((s) => {
      const agents = [...s.agents.values()].map((i) => this.streamLabel(i));
      const customer = s.customer === undefined ? '-' : this.streamLabel(s.customer);
      return `S${s.key} of ${s.owner} ${s.open ? 'open' : 'ended'} ${describeHistory(s.history)} customer=${customer} agents=[${agents.join(' ')}]`;
    });
    return [`queue ${this.queueText()}`, ...sessions].join('\n');
  }

  private init(actor: number, i: number, ref: SessionRef): Plan {
    const a = this.actors[actor]!;
    const st = this.streams[i]!;
    bump(this.handled, a.user);
    const plan: Plan = { kind: 'init', actor, stream: i, session: ref };
    if (st.session !== undefined) {
      this.cover('init while connected');
      this.end(i, status.FAILED_PRECONDITION);
      return plan;
    }
    if (ref.kind === 'none') {
      if (this.sessions.filter((s) => s.owner === a.user && s.open).length >= this.maxOpenSessions) {
        this.cover('too many open sessions');
        this.end(i, status.RESOURCE_EXHAUSTED);
        return plan;
      }
      const key = this.sessions.length;
      this.cover('init{}: new session');
      this.sessions.push({ key, owner: a.user, open: true, history: [], customer: undefined, agents: new Map() });
      this.enqueue(key);
      this.attachCustomer(i, key);
      st.newSessionAt.set(st.expected.length - 1, key);
      return plan;
    }
    const s = ref.kind === 'key' ? this.sessions[ref.key]! : undefined;
    if (!s || s.owner !== a.user) {
      this.cover(s ? 'resume of another customer session' : 'resume of an unknown session');
      this.end(i, status.NOT_FOUND);
    } else if (!s.open) {
      this.cover('resume of an ended session');
      this.end(i, status.FAILED_PRECONDITION);
    } else {
      this.cover('resume of an own open session');
      if (s.customer !== undefined) {
        this.cover('customer takeover');
        this.end(s.customer, status.ABORTED);
      }
      this.attachCustomer(i, s.key);
    }
    return plan;
  }

  private accept(actor: number, i: number, ref: SessionRef): Plan {
    const a = this.actors[actor]!;
    const st = this.streams[i]!;
    bump(this.handled, a.user);
    const plan: Plan = { kind: 'accept', actor, stream: i, session: ref };
    if (st.session !== undefined) {
      this.cover('accept while connected');
      this.end(i, status.FAILED_PRECONDITION);
      return plan;
    }
    if (ref.kind === 'none') {
      const key = this.queue.shift();
      if (key === undefined) {
        this.cover('accept{} on an empty queue');
        this.end(i, status.FAILED_PRECONDITION);
        return plan;
      }
      this.cover('accept{} from the queue');
      if (this.queue.length > 0) this.cover('accept{} with several sessions queued');
      this.attachAgent(i, key);
      return plan;
    }
    const s = ref.kind === 'key' ? this.sessions[ref.key]! : undefined;
    if (!s) {
      this.cover('accept of an unknown session');
      this.end(i, status.NOT_FOUND);
    } else if (!s.open) {
      this.cover('accept of an ended session');
      this.end(i, status.FAILED_PRECONDITION);
    } else {
      if (this.queue.includes(s.key)) this.cover('accept{X} of a queued session');
      else if (s.agents.size > 0) this.cover('accept{X} of an attended session');
      this.queue = this.queue.filter((k) => k !== s.key);
      const previous = s.agents.get(a.user);
      this.attachAgent(i, s.key);
      if (previous !== undefined) {
        this.cover('agent takeover');
        this.end(previous, status.ABORTED);
      }
    }
    return plan;
  }

  private attachCustomer(i: number, key: number): void {
    const s = this.sessions[key]!;
    s.customer = i;
    this.streams[i]!.session = key;
    this.push(i, `session S${key} of ${s.owner} ${describeHistory(s.history)}`);
  }

  private attachAgent(i: number, key: number): void {
    const s = this.sessions[key]!;
    s.agents.set(this.actors[this.streams[i]!.actor]!.user, i);
    this.streams[i]!.session = key;
    this.push(i, `accepted S${key} of ${s.owner} ${describeHistory(s.history)}`);
  }

  /** The stream ends with `code`; the server detaches it as leave_session does (requeue unless it is stopping). */
  private end(i: number, code: status, requeue = true): void {
    const st = this.streams[i]!;
    const a = this.actors[st.actor]!;
    st.status = code;
    if (a.current === i) a.current = undefined;
    bump(this.closes, a.user);
    this.effects.push(`${this.streamLabel(i)} ends ${status[code]}`);
    this.detach(i, requeue);
  }

  private detach(i: number, requeue: boolean): void {
    const st = this.streams[i]!;
    if (st.session === undefined) return;
    const s = this.sessions[st.session]!;
    st.session = undefined;
    const a = this.actors[st.actor]!;
    if (a.role === 'customer') {
      if (s.customer === i) s.customer = undefined;
    } else if (s.agents.get(a.user) === i) {
      s.agents.delete(a.user);
      if (requeue && s.open && s.agents.size === 0) {
        this.cover('last agent left: session requeued');
        this.enqueue(s.key);
        if (this.queue.length > 1) this.cover('last agent left: session requeued behind others');
      }
    }
  }

  private enqueue(key: number): void {
    this.queue.push(key);
    this.effects.push(`queue ${this.queueText()}`);
  }

  private push(i: number, response: string): void {
    this.streams[i]!.expected.push(response);
    this.effects.push(`${this.streamLabel(i)} <- ${response}`);
  }

  private cover(what: Transition): void {
    bump(this.coverage, what);
  }

  private unknownRef(): SessionRef {
    return { kind: 'unknown', id: `no-such-session-${++this.unknowns}` };
  }

  private resumeCandidates(user: string, target: Exclude<ResumeTarget, 'unknown'>): number[] {
    const fits = (s: ModelSession): boolean => {
      switch (target) {
        case 'other-customer':
          return s.owner !== user;
        case 'own-ended':
          return s.owner === user && !s.open;
        case 'own-attached':
          return s.owner === user && s.open && s.customer !== undefined;
        case 'own-open':
          return s.owner === user && s.open;
      }
    };
    return this.sessions.filter(fits).map((s) => s.key);
  }

  private acceptCandidates(user: string, target: Exclude<AcceptTarget, 'unknown'>): number[] {
    const fits = (s: ModelSession): boolean => {
      switch (target) {
        case 'ended':
          return !s.open;
        case 'attended':
          return s.open && [...s.agents.keys()].some((agent) => agent !== user);
        case 'mine':
          return s.open && s.agents.has(user);
        case 'open':
          return s.open;
      }
    };
    return this.sessions.filter(fits).map((s) => s.key);
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
