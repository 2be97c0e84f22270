// The messages page: every conversation of a member, latest first, from one read of
// their inbox, with who is online among those who have not blocked them.
import type { UserView } from '../realtime/events.ts';
import { userView, type Party } from './message-view.ts';
import { lastOf, unreadOf, unreadTotalOf, type LastMessage } from './models.ts';
import type { MessageStore } from './store.ts';

/** How many conversations the messages page lists at most (older ones come back with their next message). */
export { INBOX_KEEP } from './store.ts';

/** Which of these users are online, as the realtime layer knows it: with scale-out, other processes are asked. */
export type WhoIsOnline = (userIds: string[]) => Promise<Set<string>>;

export interface ConversationSummary {
  user: UserView;
  unread: number;
  online: boolean;
  last: LastMessage;
}

export interface InboxView {
  v: number;
  total: number;
  conversations: ConversationSummary[];
}

export function createInbox(deps: { store: MessageStore; whoIsOnline: WhoIsOnline }) {
  return async function inbox(owner: Party): Promise<InboxView> {
    const doc = await deps.store.readInbox(owner.id);
    const entries = Object.values(doc?.e ?? {}).flatMap((entry) => {
      const last = lastOf(entry);
      return last ? [{ ...entry, last, unread: unreadOf(entry) }] : [];
    });
    entries.sort((a, b) => b.last.at.getTime() - a.last.at.getTime());
    // One question for the whole list; no one who blocked the owner is asked about.
    const online = await deps.whoIsOnline(entries.filter((entry) => !entry.blockedMe).map((entry) => entry.user));
    const conversations = entries.map((entry) => ({
      user: userView({ id: entry.user, username: entry.username }),
      unread: entry.unread,
      online: !entry.blockedMe && online.has(entry.user),
      last: entry.last,
    }));
    // Grown past what it keeps: trimmed behind this read (see MessageStore.trimInbox).
    if (doc) void deps.store.trimInbox(owner.id, doc).catch(() => undefined);
    return { v: doc?.v ?? 0, total: unreadTotalOf(doc), conversations };
  };
}
