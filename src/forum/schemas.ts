// What a post or reply form may contain. Messages are translation keys; the routes fill
// in {max}. Fields must be plain strings: `title[$ne]=` or a JSON object is refused.
import { z } from 'zod';
import { isObjectIdString } from '../accounts/user-model.ts';
import type { Config } from '../config.ts';
import { neutraliseText } from '../text/safety.ts';


const length = (v: string) => [...v].length;

function textField(required: string, tooLong: string, max: number) {
  return z
    .string({ error: required })
    .transform((v) => neutraliseText(v).trim())
    .pipe(z.string().min(1, required).refine((v) => length(v) <= max, tooLong));
}

export function forumSchemas(limits: Pick<Config['limits'], 'postTitleMaxLength' | 'postMaxLength'>) {
  const body = textField('forum.error.bodyRequired', 'forum.error.bodyTooLong', limits.postMaxLength);
  const title = textField('forum.error.titleRequired', 'forum.error.titleTooLong', limits.postTitleMaxLength)
    // A title is one line, whatever a hand-made request sends.
    .transform((v) => v.replace(/\s+/g, ' '));
  return {
    post: z.object({ title, body }),
    reply: z.object({ body }),
  };
}

/** `?page=`: a positive whole number; anything else is the first page. */
export const pageNumber = z.coerce.number().int().min(1).max(100_000).catch(1);

/** A post id as it appears in a URL: 24 hex digits, any case. */
export const postId = z
  .string()
  .refine(isObjectIdString)
  .transform((v) => v.toLowerCase());
