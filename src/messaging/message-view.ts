// How messages, members and refusals look outside the messaging modules: the shapes of
// the protocol (realtime/events.ts), and the one way a message's `_id` is derived.
import crypto from 'node:crypto';
import { avatarUrl } from '../accounts/avatar.ts';
import type { UserDocument } from '../accounts/user-model.ts';
import { renderText } from '../forum/text.ts';
import type { Failure, MessageView, UserView } from '../realtime/events.ts';
import type { StoredMessage } from './models.ts';
import type { Party } from './views.ts';

export type { Party };

/** A failure before translation: `error` is a translation key. */
export type Refusal = Omit<Failure, 'error'> & { error: string; vars?: Record<string, string | number> };

export const refuse = (code: Refusal['code'], error: string, extra: Partial<Refusal> = {}): Refusal => ({ ok: false, code, error, ...extra });

export function toMessageView(m: StoredMessage): MessageView {
  const deleted = m.deletedAt !== undefined && m.deletedAt !== null;
  return {
    _id: m._id,
    from: m.from,
    to: m.to,
    // A deleted message's text is sent to no one any more, whatever the document still holds.
    content: deleted ? '' : m.content,
    html: deleted ? '' : renderText(m.content),
    createdAt: new Date(m.createdAt).toISOString(),
    seq: m.seq,
    clientId: m.clientId,
    conversation: m.conv,
    ...(deleted ? { deleted: true as const } : m.editedAt ? { editedAt: new Date(m.editedAt).toISOString() } : {}),
    ...(m.about && { about: { _id: m.about.post, title: m.about.title } }),
  };
}

export function userView(user: Party): UserView {
  return { _id: user.id, username: user.username, avatar: avatarUrl(user) };
}

export function party(user: UserDocument): Party {
  return { id: user._id.toString(), username: user.username };
}

/** The same sender and client id always give the same `_id`: that is what makes resends idempotent. */
export function messageId(senderId: string, clientId: string): string {
  return crypto.createHash('sha256').update(`${senderId}:${clientId}`).digest('hex').slice(0, 24);
}
