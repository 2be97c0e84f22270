// Live online dots: which members a page may watch come and go, and who of them is
// online now: the members the watcher has a conversation with (the messages page lists
// no one else; anyone else's online status is not theirs to follow), except those who
// blocked the watcher (the messages page shows them offline too).
import { refuse, type Party, type Refusal } from './message-view.ts';
import type { WhoIsOnline } from './inbox.ts';
import { entryKey, lastOf } from './models.ts';
import { firstIssue, WATCH_PRESENCE_MAX, watchPresenceSchema } from './schemas.ts';
import type { MessageStore } from './store.ts';

export function createPresenceWatch(deps: { store: MessageStore; whoIsOnline: WhoIsOnline }) {
  return async function watchablePresence(owner: Party, input: unknown): Promise<{ ok: true; allowed: string[]; online: string[] } | Refusal> {
    const parsed = watchPresenceSchema.safeParse(input);
    if (!parsed.success) return refuse('invalid', firstIssue(parsed.error), { vars: { maximum: WATCH_PRESENCE_MAX } });
    const doc = await deps.store.readInbox(owner.id);
    // Keyed by entryKey ('u' + id): an entry may hold nothing but the blocked flag.
    const entries = doc?.e ?? {};
    const allowed = parsed.data.filter((id) => {
      const entry = entries[entryKey(id)];
      return id !== owner.id && entry !== undefined && !entry.blockedMe && lastOf(entry) !== undefined;
    });
    const online = await deps.whoIsOnline(allowed);
    return { ok: true, allowed, online: allowed.filter((id) => online.has(id)) };
  };
}
