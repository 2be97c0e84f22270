// Keeps the forum's search index true to the forum: every post and reply written,
// edited or deleted is (re)indexed or removed under the "forum" scope. Indexing is
// queued (search-index.ts); a failure is logged there, never the author's problem.
import type { ForumWrite } from '../forum/service.ts';
import type { SearchIndex } from './search-index.ts';

export const FORUM_SCOPE = 'forum';

const postPath = (postId: string, page = 1) => (page > 1 ? `/posts/${postId}?page=${page}` : `/posts/${postId}`);

export function forumIndexer(index: SearchIndex) {
  return async (write: ForumWrite): Promise<void> => {
    let queued: Promise<void>;
    switch (write.kind) {
      case 'post':
      case 'postEdited':
        queued = index.index(FORUM_SCOPE, {
          ref: `p:${write.postId}`,
          title: write.title,
          body: write.body,
          author: write.author.username,
          href: postPath(write.postId),
          at: write.createdAt,
        });
        break;
      case 'reply':
      case 'replyEdited':
        queued = index.index(FORUM_SCOPE, {
          ref: `r:${write.replyId}`,
          title: write.postTitle,
          body: write.body,
          author: write.author.username,
          href: `${postPath(write.postId, write.page)}#reply-${write.replyId}`,
          at: write.createdAt,
        });
        break;
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
