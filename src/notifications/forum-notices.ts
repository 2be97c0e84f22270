// What the forum's writes tell members: the author of a post hears of each reply to it,
// and whoever a post or reply mentions hears of that. Each is one write to the member's
// own notifications document (see service.ts).
import { mentionedUserIds } from '../mentions/resolve.ts';
import { postHref } from '../forum/routes.ts';
import type { ForumWrite } from '../forum/service.ts';
import type { Logger } from '../log.ts';
import type { NotificationsService } from './service.ts';

export function forumNotices(deps: { notifications: NotificationsService; mentionsPerText: number; log: Logger }) {
  const { notifications } = deps;

  async function mentions(text: string, except: string[], note: Parameters<NotificationsService['add']>[1]): Promise<void> {
    const userIds = await mentionedUserIds(text, deps.mentionsPerText);
    await Promise.all(userIds.filter((id) => !except.includes(id)).map((id) => notifications.add(id, note)));
  }

  return async (write: ForumWrite): Promise<void> => {
    try {
      if (write.kind === 'post') {
        await mentions(`${write.title}\n${write.body}`, [], {
          kind: 'mention',
          actor: write.author,
          group: `mention:${write.postId}`,
          href: postHref(write.postId),
          title: write.title,
          excerpt: write.body,
        });
      } else if (write.kind === 'reply') {
        const note = {
          actor: write.author,
          href: `${postHref(write.postId, write.page)}#reply-${write.replyId}`,
          title: write.postTitle,
          excerpt: write.body,
        };
        await notifications.add(write.postAuthorId, { ...note, kind: 'reply', group: `reply:${write.postId}` });
        // The post's author already hears of this reply.
        await mentions(write.body, [write.postAuthorId], { ...note, kind: 'mention', group: `mention:${write.postId}` });
      }
    } catch (err) {
      deps.log.warn({ err, write: write.kind }, 'forum notifications failed');
    }
  };
}
