// The members a text mentions: one exact `_id` read of the usernames collection per
// distinct name, at most the configured few per text.
import { UsernameModel } from '../accounts/user-model.ts';
import { mentionedKeys } from './parse.ts';

export async function mentionedUserIds(text: string, max: number): Promise<string[]> {
  const entries = await Promise.all(mentionedKeys(text, max).map((key) => UsernameModel.findById(key).lean().exec()));
  return [...new Set(entries.flatMap((entry) => (entry ? [entry.userId.toString()] : [])))];
}
