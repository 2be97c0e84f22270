// The messages page: every conversation of a member, latest first, from one read of
// their inbox, with who is online among those who have not blocked them.
import type { UserView } from '../realtime/events.ts';
import { userView, type Party } from './message-view.ts';
import { isRequest, lastOf, requestsOn, unreadOf, unreadTotalOf, type LastMessage } from './models.ts';
import type { GroupSummary } from './groups.ts';
import { groupsOf, type MessageStore } from './store.ts';

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
  /** Unread messages outside requests: the header badge. */
  total: number;
  conversations: ConversationSummary[];
  /** The member's group conversations (groups.ts), latest first. */
  groups: GroupSummary[];
  /** First messages from members the owner never talked with (requests.ts), not ignored. */
  requests: ConversationSummary[];
  /** Whether the owner keeps requests apart (they may turn it off). */
  requestsOn: boolean;
}

type Summaries = (owner: string, groupIds: string[], joinedAt: Map<string, Date>) => Promise<GroupSummary[]>;

export function createInbox(deps: { store: MessageStore; whoIsOnline: WhoIsOnline; groups: Summaries }) {
  /** `hidden`: members the owner blocked, whose requests are not shown. */
  return async function inbox(owner: Party, options: { hidden?: readonly string[] } = {}): Promise<InboxView> {
    const doc = await deps.store.readInbox(owner.id);
    const hidden = new Set(options.hidden ?? []);
    const entries = Object.values(doc?.e ?? {}).flatMap((entry) => {
      const last = lastOf(entry);
      const request = isRequest(doc, entry);
      if (!last || (request && (entry.ign === true || hidden.has(entry.user)))) return [];
      return [{ ...entry, last, unread: unreadOf(entry), request }];
    });
    entries.sort((a, b) => b.last.at.getTime() - a.last.at.getTime());
    // One question for the whole list; no one who blocked the owner is asked about.
    const online = await deps.whoIsOnline(entries.filter((entry) => !entry.blockedMe).map((entry) => entry.user));
    const summaries = entries.map((entry) => ({
      user: userView({ id: entry.user, username: entry.username }),
      unread: entry.unread,
      online: !entry.blockedMe && online.has(entry.user),
      last: entry.last,
      request: entry.request,
    }));
    const conversations = summaries.filter((c) => !c.request).map(({ request: _, ...c }) => c);
    const requests = summaries.filter((c) => c.request).map(({ request: _, ...c }) => c);
    // Grown past what it keeps: trimmed behind this read (see MessageStore.trimInbox).
    if (doc) void deps.store.trimInbox(owner.id, doc).catch(() => undefined);
    const joinedAt = new Map(Object.values(doc?.e ?? {}).flatMap((entry) => (entry.group === true && entry.at ? [[entry.conv, new Date(entry.at)] as const] : [])));
    const groups = await deps.groups(owner.id, groupsOf(doc), joinedAt);
    groups.sort((a, b) => (b.last?.at ?? b.at).getTime() - (a.last?.at ?? a.at).getTime());
    const total = unreadTotalOf(doc) + groups.reduce((sum, g) => sum + g.unread, 0);
    return { v: doc?.v ?? 0, total, conversations, groups, requests, requestsOn: requestsOn(doc) };
  };
}
