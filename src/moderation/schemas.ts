// What moderation and admin forms may contain. Messages are translation keys.
import { z } from 'zod';
import { isObjectIdString } from '../accounts/user-model.ts';
import { boardSlug } from '../forum/schemas.ts';
import { REPORT_KINDS } from './reports.ts';
import { ROLES } from './roles.ts';
import { SUSPENSION_DAYS } from './suspension.ts';

const REASON_MAX = 500;
const NAME_MAX = 60;
const DESCRIPTION_MAX = 300;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001F\u007F]/g;
const line = (max: number, required: string, tooLong: string) =>
  z
    .string({ error: required })
    .transform((v) => v.replace(CONTROL, ' ').trim())
    .pipe(z.string().min(1, required).refine((v) => [...v].length <= max, tooLong));
const optionalLine = (max: number, tooLong: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v ?? '').replace(CONTROL, ' ').trim())
    .pipe(z.string().refine((v) => [...v].length <= max, tooLong));

const objectId = z.string().refine(isObjectIdString, 'moderation.error.badTarget').transform((v) => v.toLowerCase());
const username = z.string({ error: 'moderation.error.username' }).trim().min(1, 'moderation.error.username').max(64, 'moderation.error.username');

export const moderationSchemas = {
  report: z.object({
    kind: z.enum(REPORT_KINDS, { error: 'moderation.error.badTarget' }),
    id: z.string({ error: 'moderation.error.badTarget' }).trim().min(1, 'moderation.error.badTarget').max(64, 'moderation.error.badTarget'),
    reason: line(REASON_MAX, 'moderation.error.reasonRequired', 'moderation.error.reasonTooLong'),
  }),
  postAction: z.object({ action: z.enum(['hide', 'unhide', 'lock', 'unlock'], { error: 'moderation.error.badAction' }) }),
  replyAction: z.object({ action: z.enum(['hide', 'unhide'], { error: 'moderation.error.badAction' }) }),
  closeReport: z.object({ outcome: z.enum(['resolved', 'dismissed'], { error: 'moderation.error.badAction' }) }),
  suspend: z.object({
    username,
    length: z.enum([...SUSPENSION_DAYS, 'lift'], { error: 'moderation.error.badAction' }),
    reason: optionalLine(REASON_MAX, 'moderation.error.reasonTooLong'),
  }),
  role: z.object({ username, role: z.enum(ROLES, { error: 'moderation.error.badAction' }) }),
  newBoard: z.object({
    slug: boardSlug,
    name: line(NAME_MAX, 'boards.error.nameRequired', 'boards.error.nameTooLong'),
    description: optionalLine(DESCRIPTION_MAX, 'boards.error.descriptionTooLong'),
  }),
  editBoard: z.object({
    name: line(NAME_MAX, 'boards.error.nameRequired', 'boards.error.nameTooLong'),
    description: optionalLine(DESCRIPTION_MAX, 'boards.error.descriptionTooLong'),
    archived: z.enum(['on']).optional(),
  }),
  moveBoard: z.object({ direction: z.enum(['up', 'down'], { error: 'moderation.error.badAction' }) }),
  objectId,
};
