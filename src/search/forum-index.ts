// Keeps the forum's search index true to the forum: every post and reply written,
// edited or deleted is (re)indexed or removed under the "forum" scope. Indexing is
// queued (search-index.ts); a failure is logged there, never the author's problem.
import { postHref } from '../forum/routes.ts';
import type { ForumWrite } from '../forum/service.ts';
import type { SearchIndex } from './search-index.ts';

export const FORUM_SCOPE = 'forum';

const common = (write: { body: string; author: { username: string }; createdAt: Date }) => ({
  body: write.body,
  author: write.author.username,
  at: write.createdAt,
});

export function forumIndexer(index: SearchIndex) {
  return async (write: ForumWrite): Promise<void> => {
    let queued: Promise<void>;
    switch (write.kind) {
      case 'post':
      case 'postEdited':
        queued = index.index(FORUM_SCOPE, { ref: `p:${write.postId}`, title: write.title, href: postHref(write.postId), ...common(write) });
        break;
      case 'reply':
      case 'replyEdited': {
        const href = `${postHref(write.postId, write.page)}#reply-${write.replyId}`;
        queued = index.index(FORUM_SCOPE, { ref: `r:${write.replyId}`, title: write.postTitle, href, ...common(write) });
        break;
      }
      case 'postDeleted':
        queued = index.unindex(FORUM_SCOPE, `p:${write.postId}`);
        break;
      case 'replyDeleted':
        queued = index.unindex(FORUM_SCOPE, `r:${write.replyId}`);
        break;
    }
    // Not awaited: the author's page does not wait for the index.
    queued.catch(() => undefined);
  };
}
