// Mentions as links to profiles, in HTML that is already safe (forum/text.ts's output,
// or any renderer's): only text between tags is touched, never a tag, an attribute, a
// link's text or code. The names it wraps hold letters, digits, "_" and "-" only.
import { usernameKey } from '../accounts/user-model.ts';
import { MENTION } from './parse.ts';

const TAG = /(<[^>]*>)/;
const SKIPPED = new Set(['a', 'code', 'pre']);

export function linkMentions(html: string, max: number): string {
  const linked: string[] = [];
  let skipping = 0;
  return html
    .split(TAG)
    .map((part) => {
      const tag = /^<(\/?)([a-z][a-z0-9]*)/i.exec(part);
      if (tag) {
        if (SKIPPED.has(tag[2]!.toLowerCase())) skipping = Math.max(0, skipping + (tag[1] ? -1 : 1));
        return part;
      }
      if (skipping > 0) return part;
      return part.replace(MENTION, (whole, name: string) => {
        const key = usernameKey(name);
        if (!linked.includes(key)) {
          if (linked.length >= max) return whole;
          linked.push(key);
        }
        return `<a class="mention" href="/users/${encodeURIComponent(name)}" data-mention="${name}">@${name}</a>`;
      });
    })
    .join('');
}
