// The home feed on MongoDB with several processes (no lock): a reply that reaches the
// feed after a newer one must not write its older state back over it.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { feedPage, recordActivity } from '../../src/forum/feed.ts';
import { HomeFeedModel, type FeedEntry } from '../../src/forum/model.ts';
import { createPost } from '../support/forum.ts';
import { useTestServer } from '../support/server.ts';
import { registerUser } from '../support/users.ts';

const server = useTestServer();
let entry: FeedEntry;
beforeAll(async () => {
  const author = await registerUser(server.current.url);
  const postId = await createPost(author, 'Busy thread');
  entry = (await feedPage(1, 50)).entries.find((e) => e.postId === postId)!;
});

describe('the home feed', () => {
  it('keeps the higher reply count and the later activity when an older reply lands after a newer one', async () => {
    const start = entry.lastActivityAt.getTime();
    const older: FeedEntry = { ...entry, replyCount: 1, lastActivityAt: new Date(start + 1000) };
    const newer: FeedEntry = { ...entry, replyCount: 2, lastActivityAt: new Date(start + 2000) };

    // The interleaving, driven: the older reply has read the feed and is about to write
    // when the newer one (another process) writes first. Its write then misses the
    // version it read, and it retries on the feed that holds the newer entry.
    const realUpdate = HomeFeedModel.updateOne.bind(HomeFeedModel);
    let interleaved = false;
    const spy = vi.spyOn(HomeFeedModel, 'updateOne').mockImplementation(((...args: Parameters<typeof realUpdate>) => {
      if (interleaved) return realUpdate(...args);
      interleaved = true;
      return { exec: async () => {
        await recordActivity(newer, false);
        return realUpdate(...args).exec();
      } };
    }) as never);
    try {
      await recordActivity(older, false);
    } finally {
      spy.mockRestore();
    }
    expect(interleaved).toBe(true);

    const shown = (await feedPage(1, 50)).entries.find((e) => e.postId === entry.postId)!;
    expect(shown.replyCount).toBe(2);
    expect(shown.lastActivityAt.getTime()).toBe(start + 2000);
  });
});
