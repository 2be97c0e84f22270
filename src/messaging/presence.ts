// Live online dots: which members a page may watch come and go, and who of them is
// online now: the members the watcher has a conversation with (the messages page lists
// no one else; anyone else's online status is not theirs to follow), except those who
// blocked the watcher (the messages page shows them offline too).
import { refuse, type Party, type Refusal } from './message-view.ts';
import type { WhoIsOnline } from './inbox.ts';
import { entryKey, lastOf } from './models.ts';
import { firstIssue, WATCH_PRESENCE_MAX, watchPresenceSchema } from './schemas.ts';
import { groupsOf, type MessageStore } from './store.ts';

/** The members of these groups (groups.ts): a group's page shows its members' dots. */
export type GroupMembers = (groupIds: string[]) => Promise<string[]>;

export function createPresenceWatch(deps: { store: MessageStore; whoIsOnline: WhoIsOnline; groupMembers?: GroupMembers }) {
  return async function watchablePresence(owner: Party, input: unknown): Promise<{ ok: true; allowed: string[]; online: string[] } | Refusal> {
    const parsed = watchPresenceSchema.safeParse(input);
    if (!parsed.success) return refuse('invalid', firstIssue(parsed.error), { vars: { maximum: WATCH_PRESENCE_MAX } });
    const doc = await deps.store.readInbox(owner.id);
    // Keyed by entryKey ('u' + id): an entry may hold nothing but the blocked flag.
    const entries = doc?.e ?? {};
    // Those the watcher shares a group with count as conversations too.
    const inGroups = new Set(deps.groupMembers ? await deps.groupMembers(groupsOf(doc)) : []);
    const allowed = parsed.data.filter((id) => {
      const entry = entries[entryKey(id)];
      return id !== owner.id && !entry?.blockedMe && ((entry !== undefined && lastOf(entry) !== undefined) || inGroups.has(id));
    });
    const online = await deps.whoIsOnline(allowed);
    return { ok: true, allowed, online: allowed.filter((id) => online.has(id)) };
  };
}
