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
    post: z.object({ title, body, board: boardSlug.optional() }),
    edit: z.object({ title, body }),
    reply: z.object({ body }),
    /** A preview renders what is typed, even nothing; too long is refused like the form would. */
    preview: z.object({
      body: z.string({ error: 'forum.error.bodyRequired' }).refine((v) => length(v) <= limits.postMaxLength, 'forum.error.bodyTooLong'),
    }),
  };
}

/** A board's address: lower-case letters, digits and dashes. */
export const boardSlug = z
  .string({ error: 'boards.error.slug' })
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/, 'boards.error.slug');

/** A board page's place in its list (board-list.ts): a sequence number, or nothing. */
export const boardCursor = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional().catch(undefined);

/** `?page=`: a positive whole number; anything else is the first page. */
export const pageNumber = z.coerce.number().int().min(1).max(100_000).catch(1);

/** A post id as it appears in a URL: 24 hex digits, any case. */
export const postId = z
  .string()
  .refine(isObjectIdString)
  .transform((v) => v.toLowerCase());
