// Inputs of the messaging service, from a socket or a form. Nothing about their shape is
// trusted: each schema turns an unknown value into plain strings and numbers or fails
// with a translation key naming the problem.
import { z } from 'zod';
import { neutraliseText } from '../text/safety.ts';
import { GROUP_ID } from './models.ts';

const OBJECT_ID = /^[0-9a-f]{24}$/i;
const emptyAsMissing = (value: unknown) => (value === '' || value === null ? undefined : value);

const userId = z.preprocess(
  emptyAsMissing,
  z
    .string({ error: 'messaging.error.recipientId' })
    .regex(OBJECT_ID, 'messaging.error.recipientId')
    .transform((id) => id.toLowerCase())
    .optional(),
);
const username = z.preprocess(
  emptyAsMissing,
  z.string({ error: 'messaging.error.recipientName' }).trim().min(1, 'messaging.error.recipientMissing').max(64, 'messaging.error.unknownUser').optional(),
);

/** A group conversation's id (models.ts GROUP_ID). */
export const groupConversation = z.preprocess(
  emptyAsMissing,
  z.string({ error: 'groups.error.conversation' }).regex(GROUP_ID, 'groups.error.conversation').optional(),
);

export function privateMessageSchema(maxLength: number) {
  return z
    .object(
      {
        to_user: userId,
        to_username: username,
        conversation: groupConversation,
        content: z
          .string({ error: 'messaging.error.contentType' })
          // Hidden controls, direction overrides and broken characters go (text/safety.ts).
          .transform((v) => neutraliseText(v).trim())
          .pipe(z.string().min(1, 'messaging.error.empty').max(maxLength, 'messaging.error.tooLong')),
        client_id: z.preprocess(
          emptyAsMissing,
          z.string({ error: 'messaging.error.clientId' }).min(1, 'messaging.error.clientId').max(128, 'messaging.error.clientId').optional(),
        ),
        /** The post the message is about: its id only (the server reads its title). */
        about: z.preprocess(emptyAsMissing, z.string({ error: 'chatmore.error.about' }).regex(OBJECT_ID, 'chatmore.error.about').transform((id) => id.toLowerCase()).optional()),
      },
      { error: 'messaging.error.payload' },
    )
    .refine((v) => v.to_user !== undefined || v.to_username !== undefined || v.conversation !== undefined, { message: 'messaging.error.recipientMissing' });
}

export type PrivateMessage = z.infer<ReturnType<typeof privateMessageSchema>>;

export const markReadSchema = z
  .object(
    {
      user: userId,
      username,
      conversation: groupConversation,
      upTo: z.number({ error: 'messaging.error.upTo' }).int('messaging.error.upTo').min(0, 'messaging.error.upTo').max(Number.MAX_SAFE_INTEGER, 'messaging.error.upTo').optional(),
    },
    { error: 'messaging.error.payload' },
  )
  .refine((v) => v.user !== undefined || v.username !== undefined || v.conversation !== undefined, { message: 'messaging.error.recipientMissing' });

/** A seq cursor from a query string: a positive integer, or nothing. */
export const seqCursor = z.preprocess(
  emptyAsMissing,
  z.coerce.number({ error: 'messaging.error.cursor' }).int('messaging.error.cursor').min(0, 'messaging.error.cursor').max(Number.MAX_SAFE_INTEGER, 'messaging.error.cursor').optional(),
);

export const historyQuerySchema = z.object({ before: seqCursor, after: seqCursor });

export function firstIssue(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'messaging.error.payload';
}

/** The form field a message's validation error belongs to, for the browser to focus. */
export function issueField(error: z.ZodError): 'to' | 'content' | undefined {
  const issue = error.issues[0];
  const key = issue?.path[0];
  if (key === 'content') return 'content';
  if (key === 'to_user' || key === 'to_username' || issue?.message === 'messaging.error.recipientMissing') return 'to';
  return undefined;
}

/** How many members one page may watch for online dots: a messages page lists at most a few hundred. */
export const WATCH_PRESENCE_MAX = 300;

export const watchPresenceSchema = z
  .array(z.string({ error: 'safety.presence.ids' }).regex(OBJECT_ID, 'safety.presence.ids'), { error: 'safety.presence.ids' })
  .max(WATCH_PRESENCE_MAX, 'safety.presence.tooMany')
  .transform((ids) => [...new Set(ids.map((id) => id.toLowerCase()))]);

const messageIdField = z.string({ error: 'chatmore.error.messageId' }).regex(OBJECT_ID, 'chatmore.error.messageId').transform((id) => id.toLowerCase());

/** `editmsg`: the message, and its new text under the same rules as a send's. */
export function editMessageSchema(maxLength: number) {
  return z.object(
    {
      message_id: messageIdField,
      content: z.string({ error: 'messaging.error.contentType' }).trim().min(1, 'messaging.error.empty').max(maxLength, 'messaging.error.tooLong'),
    },
    { error: 'chatmore.error.payload' },
  );
}

export const deleteMessageSchema = z.object({ message_id: messageIdField }, { error: 'chatmore.error.payload' });
