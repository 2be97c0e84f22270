// Usernames that start with what the member has typed, for the compose form.
//
// People the member already talks with come first and cost nothing (their inbox is one
// read). Then a range on the `usernames` collection, whose `_id` is the case-folded
// name: on MongoDB that walks the `_id` index (O(log n + k)); FerretDB 1.x cannot push a
// range down, so there it decodes the whole `usernames` collection, a small document
// per member. That stays quick to some tens of thousands of members; beyond that, give
// prefixes their own documents (`_id` = a 1–3 character prefix → top names) at registration.
import { avatarUrl } from '../accounts/avatar.ts';
import { UserModel, UsernameModel, usernameKey } from '../accounts/user-model.ts';
import type { InboxView } from './service.ts';

export interface Suggestion {
  username: string;
  avatar: string;
}

export const SUGGESTION_LIMIT = 8;
const USERNAME_MAX = 24;

export async function suggestUsernames(prefix: unknown, contacts: InboxView['conversations'], excludeUserId: string): Promise<Suggestion[]> {
  if (typeof prefix !== 'string') return [];
  const typed = prefix.trim();
  if (typed.length === 0 || typed.length > USERNAME_MAX || !/^[\p{L}\p{N}_-]+$/u.test(typed)) return [];
  const key = usernameKey(typed);
  const seen = new Set<string>();
  const out: Suggestion[] = [];
  const add = (username: string) => {
    const folded = usernameKey(username);
    if (seen.has(folded) || out.length >= SUGGESTION_LIMIT) return;
    seen.add(folded);
    out.push({ username, avatar: avatarUrl({ username }) });
  };
  for (const c of contacts) if (usernameKey(c.user.username).startsWith(key)) add(c.user.username);
  if (out.length >= SUGGESTION_LIMIT) return out;

  const entries = await UsernameModel.find({ _id: { $gte: key, $lt: `${key}\uffff` } })
    .sort({ _id: 1 })
    .limit(SUGGESTION_LIMIT + 1)
    .lean()
    .exec();
  const users = await Promise.all(entries.map((entry) => UserModel.findById(entry.userId, { username: 1 }).lean().exec()));
  for (const user of users) if (user && user._id.toString() !== excludeUserId) add(user.username);
  return out;
}
