import type { EventEmitter } from 'node:events';
import type { ChatEvent, ChatEvents } from './chat-events';

/**
 * Every event of `emitter` from now on as an async iterator, buffered so that none is missed while
 * the app awaits something else. It ends after the `closed` state, or when the app breaks out of
 * its loop.
 */
export function iterateEvents(emitter: EventEmitter<ChatEvents>): AsyncIterableIterator<ChatEvent> {
  const buffered: ChatEvent[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  const push = (event: ChatEvent) => {
    buffered.push(event);
    wake?.();
  };
  const listeners = {
    entry: (entry: ChatEvents['entry'][0]) => push({ type: 'entry', entry }),
    sessionEnded: (end: ChatEvents['sessionEnded'][0]) => push({ type: 'sessionEnded', end }),
    state: (state: ChatEvents['state'][0]) => push({ type: 'state', state }),
    messageRejected: (rejected: ChatEvents['messageRejected'][0]) => push({ type: 'messageRejected', rejected }),
  };
  const unsubscribe = () => {
    finished = true;
    emitter.off('entry', listeners.entry).off('sessionEnded', listeners.sessionEnded);
    emitter.off('state', listeners.state).off('messageRejected', listeners.messageRejected);
    wake?.();
  };
  emitter.on('entry', listeners.entry).on('sessionEnded', listeners.sessionEnded);
  emitter.on('state', listeners.state).on('messageRejected', listeners.messageRejected);

  const iterator: AsyncIterableIterator<ChatEvent> = {
    async next() {
      while (buffered.length === 0 && !finished) await new Promise<void>((resolve) => (wake = resolve));
      const event = buffered.shift();
      if (!event) return { done: true, value: undefined };
      if (event.type === 'state' && event.state.kind === 'closed') unsubscribe();
      return { done: false, value: event };
    },
    async return() {
      unsubscribe();
      buffered.length = 0;
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
