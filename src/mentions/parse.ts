// @mentions: "@name" where name is a possible username (see accounts/schemas.ts), not
// glued to a word before it (so "a@b.example" is an address, not a mention). A mention
// ends at the first character a username cannot hold: a space or punctuation. Chinese
// text has no spaces, so the composer's suggestions put one after the name they insert.
import { usernameKey } from '../accounts/user-model.ts';

export const MENTION = /(?<![\p{L}\p{N}_@/-])@([\p{L}\p{N}_-]{2,24})(?![\p{L}\p{N}_-])/gu;

const URL = /\bhttps?:\/\/\S+/giu;

/**
 * The distinct names mentioned in `text`, in order of first appearance, case-folded,
 * at most `max`: the rest of a text's mentions neither link nor notify, so one post
 * cannot page the whole forum.
 */
export function mentionedKeys(text: string, max: number): string[] {
  const keys: string[] = [];
  // A link's "@" is part of its address, as the rendered page shows it (render.ts skips links).
  for (const match of text.replace(URL, ' ').matchAll(MENTION)) {
    const key = usernameKey(match[1]!);
    if (!keys.includes(key)) keys.push(key);
    if (keys.length >= max) break;
  }
  return keys;
}
