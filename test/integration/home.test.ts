// The home page on a database of its own: it starts empty, and the order and count of
// posts are this file's alone.
import mongoose from 'mongoose';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOME_FEED_SIZE, HomeFeedModel, PostModel } from '../../src/forum/model.ts';
import { createPost, listedTitles, reply } from '../support/forum.ts';
import { useTestServer } from '../support/server.ts';
import { registerUser, type SignedInUser } from '../support/users.ts';

// No read cache: this file also writes to the database behind the app's back.
const server = useTestServer({ READ_CACHE_MS: '0' });
let writer: SignedInUser;
beforeAll(async () => {
  writer = await registerUser(server.current.url);
});

const home = (query = '') => request(server.current.url).get(`/${query}`);

describe('the home page', () => {
  it('says so when there are no posts yet', async () => {
    const res = await home();
    expect(res.status).toBe(200);
    expect(res.text).toContain('No posts yet. Be the first to write one!');
    expect(res.text).not.toContain('data-pagination');
  });

  it('lists posts twenty to a page, newest activity first', async () => {
    for (let i = 1; i <= 23; i++) await createPost(writer, `post ${i}`);
    const newestFirst = Array.from({ length: 23 }, (_, i) => `post ${23 - i}`);
    const first = await home();
    expect(listedTitles(first.text)).toEqual(newestFirst.slice(0, 20));
    expect(first.text).toContain('Page 1 of 2');
    expect(first.text).toContain('href="/?page=2" rel="next"');
    const second = await home('?page=2');
    expect(listedTitles(second.text)).toEqual(newestFirst.slice(20));
    expect(second.text).toContain('href="/" rel="prev"');
  });

  it('brings a post back to the top when someone replies', async () => {
    const id = (await PostModel.findOne({ title: 'post 2' }).lean())!._id.toString();
    await reply(writer, id, 'up you go');
    const titles = listedTitles((await home()).text);
    expect(titles[0]).toBe('post 2');
    expect(titles[1]).toBe('post 23');
    expect((await home()).text).toContain('1 reply');
  });

  it('treats a page number that is not one as the first page, and a page past the end as empty', async () => {
    for (const junk of ['abc', '0', '-3', '2.5', '1e9']) {
      expect((await home(`?page=${junk}`)).text, junk).toContain('Page 1 of 2');
    }
    const beyond = await home('?page=3');
    expect(beyond.status).toBe(200);
    expect(beyond.text).toContain('There are no posts on this page.');
    expect(beyond.text).toContain('Back to the first page');
  });

  it('shows pages past the feed from the posts themselves, and rebuilds a lost feed', async () => {
    // Enough posts, stored directly, to run past the feed; dropping the feed makes the
    // next page view rebuild it from `posts`.
    const base = Date.now() - 24 * 60 * 60 * 1000;
    const extra = HOME_FEED_SIZE + 5;
    await PostModel.insertMany(
      Array.from({ length: extra }, (_, i) => ({
        _id: new mongoose.Types.ObjectId(),
        title: `archived ${i}`,
        body: 'old',
        authorId: new mongoose.Types.ObjectId(writer.id),
        authorName: writer.username,
        createdAt: new Date(base + i * 1000),
        lastActivityAt: new Date(base + i * 1000),
        replyCount: 0,
      })),
    );
    await HomeFeedModel.deleteMany({});
    const total = 23 + extra;
    const pages = Math.ceil(total / 20);
    const first = await home();
    expect(first.text).toContain(`Page 1 of ${pages}`);
    expect(listedTitles(first.text)[0]).toBe('post 2');
    // Everything, page by page, exactly once and in order.
    const seen: string[] = [];
    for (let page = 1; page <= pages; page++) seen.push(...listedTitles((await home(`?page=${page}`)).text));
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    expect(seen.slice(-3)).toEqual(['archived 2', 'archived 1', 'archived 0']);
  });
});
