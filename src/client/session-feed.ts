import type { EventEmitter } from 'node:events';
import type { Session } from '../../gen/support';
import type { ChatCall } from './chat-call';
import { isOwnEntry, textOf, toChatEntry, type Self } from './chat-entry';
import type { ChatEvents } from './chat-events';
import { attachmentOf, type Attachment, type ChatPhase } from './chat-phase';
import type { Incoming } from './chat-protocol';
import type { ConnectionState } from './connection-state';
import { reconcile } from './history-sync';

type InSession<Req, Res> = Extract<ChatPhase<Req, Res>, { kind: 'in-session' }>;

/** What the feed needs from its chat. */
export type FeedHost<Req, Res> = Readonly<{
  phase: () => ChatPhase<Req, Res>;
  /** The first join reply: the chat is in the session from now on. */
  enterSession: (phase: InSession<Req, Res>) => void;
  setState: (state: ConnectionState) => void;
  /** The server said the session ended (agents). */
  endSession: () => void;
  events: EventEmitter<ChatEvents>;
}>;

/**
 * The responses of a chat's calls turned into what the app sees: the join reply (the whole history
 * on the first, only what was missed on a resume), entries of others, the session's end. Responses
 * of a call that is no longer its attachment's, or of an attachment the chat left, are ignored.
 */
export class SessionFeed<Req, Res> {
  constructor(
    private readonly self: Self,
    private readonly host: FeedHost<Req, Res>,
  ) {}

  onIncoming(incoming: Incoming, call: ChatCall<Req, Res>): void {
    const phase = this.host.phase();
    const attachment = attachmentOf(phase);
    if (!attachment || call !== attachment.call) return; // a call given up on that still had something in flight
    if (incoming.kind === 'joined') {
      call.joined = true;
      this.onJoined(phase, attachment, incoming.session);
    } else if (incoming.kind === 'entry' && call.joined && phase.kind === 'in-session') {
      phase.cursor.othersSeen++;
      this.host.events.emit('entry', toChatEntry(incoming.entry, phase.session.customerName, this.self));
    } else if (incoming.kind === 'ended') {
      // The agent is out of the session now; the stream is of no further use.
      call.sessionEnded = true;
      call.halfClose();
      this.host.endSession();
    }
  }

  /** The join reply: on the first, the whole history is new to the app; on a resume, only what it missed. */
  private onJoined(phase: ChatPhase<Req, Res>, attachment: Attachment<Req, Res>, session: Session): void {
    const cursor = { base: session.history.length, othersSeen: 0 };
    const joined = { sessionId: session.sessionId, customerName: session.customerName };
    let unseen = session.history;
    if (phase.kind === 'in-session') {
      unseen = this.resync(phase, session);
      Object.assign(phase.cursor, cursor);
    } else {
      this.host.enterSession({ kind: 'in-session', attachment, session: joined, cursor });
    }
    this.host.setState({ kind: 'connected', sessionId: session.sessionId });
    for (const entry of unseen) this.host.events.emit('entry', toChatEntry(entry, session.customerName, this.self));
    if (phase.kind === 'joining') phase.joined.resolve(joined);
    attachment.call?.writeFrom(attachment.outbox);
  }

  /** After a resume: settles what was written before the break, and returns the entries the app missed. */
  private resync({ attachment, cursor }: InSession<Req, Res>, session: Session) {
    const isOwn = (entry: (typeof session.history)[number]) => isOwnEntry(entry, this.self);
    const { unseen, committed } = reconcile(session.history, cursor, attachment.outbox.writtenTexts(), isOwn, textOf);
    attachment.outbox.resync(committed);
    const refusal = attachment.refusal;
    if (refusal) {
      const refused = attachment.outbox.dropFirstMessage();
      refused?.reject(refusal);
      if (refused) this.host.events.emit('messageRejected', { text: refused.text, error: refusal });
      attachment.refusal = undefined;
    }
    return unseen;
  }
}
