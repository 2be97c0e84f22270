// Live online dots: which members a page may watch come and go, and who of them is
// online now. Everyone but those who blocked the watcher (the messages page shows them
// offline too).
import { refuse, type Party, type Refusal } from './message-view.ts';
import type { WhoIsOnline } from './inbox.ts';
import { firstIssue, watchPresenceSchema } from './schemas.ts';
import type { MessageStore } from './store.ts';

export function createPresenceWatch(deps: { store: MessageStore; whoIsOnline: WhoIsOnline }) {
  return async function watchablePresence(owner: Party, input: unknown): Promise<{ ok: true; allowed: string[]; online: string[] } | Refusal> {
    const parsed = watchPresenceSchema.safeParse(input);
    if (!parsed.success) return refuse('invalid', firstIssue(parsed.error));
    const doc = await deps.store.readInbox(owner.id);
    // Keyed by entryKey ('u' + id): an entry may hold nothing but the flag.
    const blockers = new Set(Object.entries(doc?.e ?? {}).flatMap(([key, entry]) => (entry.blockedMe ? [key.slice(1)] : [])));
    const allowed = parsed.data.filter((id) => id !== owner.id && !blockers.has(id));
    const online = await deps.whoIsOnline(allowed);
    return { ok: true, allowed, online: allowed.filter((id) => online.has(id)) };
  };
}
