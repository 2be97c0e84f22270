// A conversation's history as a member sees it: a slice of messages, the other member's
// presence, and how far they have read.
import type { MessageView, UserView } from '../realtime/events.ts';
import { toMessageView, userView, type Party } from './message-view.ts';
import { conversationId, entryKey } from './models.ts';
import type { HistorySlice, MessageStore } from './store.ts';

export interface HistoryView extends Omit<HistorySlice, 'readSeq' | 'messages'> {
  user: UserView & { online: boolean };
  messages: MessageView[];
  /** How far the other person has read this conversation (read receipts). */
  readUpTo: number;
}

export function createHistory(deps: { store: MessageStore; isOnline: (userId: string) => Promise<boolean> }) {
  /**
   * A slice of the conversation between `viewer` and `other`, oldest first. Without
   * `presence` (the other has blocked the viewer) the other person shows as offline.
   */
  return async function history(viewer: Party, other: Party, query: { before?: number; after?: number }, options: { presence?: boolean } = {}): Promise<HistoryView> {
    const slice = await deps.store.history(conversationId(viewer.id, other.id), query);
    return {
      user: { ...userView(other), online: options.presence !== false && (await deps.isOnline(other.id)) },
      messages: slice.messages.map(toMessageView),
      hasOlder: slice.hasOlder,
      hasNewer: slice.hasNewer,
      latestSeq: slice.latestSeq,
      readUpTo: slice.readSeq[entryKey(other.id)] ?? 0,
    };
  };
}
