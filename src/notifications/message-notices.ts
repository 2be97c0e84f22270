// What the chat (issue 12) tells members through notifications, beyond delivering the
// message itself:
//
// - a message request: the first message from someone the recipient never talked with;
// - mentions in a group conversation, to the members of that conversation only (nobody
//   else can read it). In a conversation of two the one who could be mentioned is the
//   recipient, who gets the message anyway: nothing more to tell.
import { mentionedUserIds } from '../mentions/resolve.ts';
import { excerpt, type NotificationsService } from './service.ts';

export interface MessageNotices {
  request(recipientId: string, from: { id: string; username: string }, content: string): Promise<void>;
  mentions(message: { content: string; author: { id: string; username: string }; members: string[]; href: string; title?: string; conversationId: string }): Promise<void>;
}

export function messageNotices(deps: { notifications: NotificationsService; mentionsPerText: number }): MessageNotices {
  const { notifications } = deps;
  return {
    request(recipientId, from, content) {
      return notifications.add(recipientId, {
        kind: 'request',
        actor: from,
        group: `request:${from.id}`,
        href: `/messages/${encodeURIComponent(from.username)}`,
        excerpt: excerpt(content),
      });
    },

    async mentions({ content, author, members, href, title, conversationId }) {
      const named = await mentionedUserIds(content, deps.mentionsPerText);
      const audience = new Set(members);
      await Promise.all(
        named
          .filter((id) => audience.has(id) && id !== author.id)
          .map((id) => notifications.add(id, { kind: 'mention', actor: author, group: `mention:c:${conversationId}`, href, title: title ?? '', excerpt: content })),
      );
    },
  };
}
