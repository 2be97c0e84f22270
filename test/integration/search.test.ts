// Searching the forum as members and visitors do: GET /search over real posts and
// replies in English and Chinese, highlighted, paged; and the index API that edits and
// deletes call, against the real embedded database.
import request from 'supertest';
import mongoose from 'mongoose';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUCKET_SIZE } from '../../src/search/model.ts';
import { FORUM_SCOPE } from '../../src/search/forum-index.ts';
import { createPost, reply } from '../support/forum.ts';
import { useTestServer } from '../support/server.ts';
import { registerUser, uniqueUsername, type SignedInUser } from '../support/users.ts';

const server = useTestServer();
let alice: SignedInUser;
beforeAll(async () => {
  alice = await registerUser(server.current.url, uniqueUsername('alice'));
});

/** A word no other test uses. */
const word = (label: string) => `${label}${Math.random().toString(36).slice(2, 8)}`;

interface Found {
  href: string;
  kind: string;
  snippet: string;
  title: string;
}

async function search(q: string, extra = ''): Promise<{ status: number; results: Found[]; older?: string; text: string }> {
  // Indexing is queued off the author's request; wait for it, as a reader a moment later would not need to.
  await server.current.search.idle();
  const res = await request(server.current.url).get(`/search?q=${encodeURIComponent(q)}${extra}`);
  const results = [...res.text.matchAll(/<li class="search-result" data-search-result data-search-kind="(\w+)">[\s\S]*?<a href="([^"]+)" data-search-link>([\s\S]*?)<\/a><\/h2>\s*<div class="search-snippet" data-search-snippet>([\s\S]*?)<\/div>/g)].map(
    (m) => ({ kind: m[1]!, href: m[2]!.replaceAll('&amp;', '&'), title: m[3]!, snippet: m[4]! }),
  );
  const older = /href="([^"]+)" rel="next" data-search-older/.exec(res.text)?.[1]?.replaceAll('&amp;', '&');
  return { status: res.status, results, older, text: res.text };
}

describe('searching posts and replies', () => {
  it('finds a post by a word of its text or title, whatever the case, with the word marked', async () => {
    const w = word('kiwi');
    const id = await createPost(alice, `Growing ${w} at home`, `My ${w.toUpperCase()} vine finally flowered.`);
    const { status, results } = await search(w.toUpperCase());
    expect(status).toBe(200);
    expect(results).toEqual([{ kind: 'post', href: `/posts/${id}`, title: `Growing <mark>${w}</mark> at home`, snippet: `My <mark>${w.toUpperCase()}</mark> vine finally flowered.` }]);
  });

  it('finds a reply and links to that exact reply', async () => {
    const w = word('mango');
    const id = await createPost(alice, 'Fruit talk');
    const location = await reply(alice, id, `The ${w} season starts in May.`);
    const { results } = await search(w);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ kind: 'reply', href: location, title: 'in “Fruit talk”' });
    expect(location).toMatch(/#reply-[0-9a-f]{24}$/);
  });

  it('needs every word of the query, in any order, and only whole words', async () => {
    const a = word('alpha');
    const b = word('beta');
    await createPost(alice, 'Both', `${a} and ${b}`);
    await createPost(alice, 'One', `${a} alone`);
    expect((await search(`${b} ${a}`)).results.map((r) => r.title)).toEqual(['Both']);
    expect((await search(a)).results.map((r) => r.title)).toEqual(['One', 'Both']);
    expect((await search(`${a} ${word('absent')}`)).results).toEqual([]);
    expect((await search(a.slice(0, -1))).results).toEqual([]);
  });

  it('finds Chinese by its characters, without spaces between words', async () => {
    const tag = word('zh');
    const id = await createPost(alice, `周末去北京 ${tag}`, '我们今天去看长城，明天吃烤鸭。');
    for (const q of ['长城', '北京', '烤鸭', '看长城', '城']) {
      const { results } = await search(`${q} ${tag}`);
      expect(results.map((r) => r.href), q).toEqual([`/posts/${id}`]);
    }
    expect((await search(`${tag} 长鸭`)).results).toEqual([]);
    const { results } = await search(`${tag} 长城`);
    expect(results[0]!.snippet).toContain('我们今天去看<mark>长城</mark>，明天吃烤鸭。');
    expect(results[0]!.title).toContain('周末去北京');
  });

  it('finds mixed Chinese and English, and full-width letters as their ASCII', async () => {
    const w = word('vue');
    const id = await createPost(alice, 'Mixed', `学习${w}框架很有趣`);
    expect((await search(`${w} 框架`)).results.map((r) => r.href)).toEqual([`/posts/${id}`]);
    const fullWidth = [...w].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('');
    expect((await search(fullWidth)).results.map((r) => r.href)).toEqual([`/posts/${id}`]);
  });

  it('escapes what members wrote: markup in a result is shown, never run', async () => {
    const w = word('xss');
    await createPost(alice, `<img src=x onerror=alert(1)> ${w}`, `<script>alert("${w}")</script>`);
    const { results, text } = await search(w);
    expect(results).toHaveLength(1);
    expect(text).not.toContain('<script>alert');
    expect(text).not.toContain('<img src=x');
    expect(results[0]!.snippet).toBe(`&lt;script&gt;alert(&quot;<mark>${w}</mark>&quot;)&lt;/script&gt;`);
    expect(results[0]!.title).toBe(`&lt;img src=x onerror=alert(1)&gt; <mark>${w}</mark>`);
  });

  it('pages results newest first, with a link to older ones', async () => {
    const w = word('page');
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) ids.push(await createPost(alice, `Post ${i}`, `${w} number ${i}`));
    const first = await search(w);
    expect(first.results).toHaveLength(20);
    expect(first.results.map((r) => r.href)).toEqual(ids.slice(3).reverse().map((id) => `/posts/${id}`));
    expect(first.older).toBeDefined();
    const older = await request(server.current.url).get(first.older!);
    const rest = [...older.text.matchAll(/data-search-link>Post (\d+)</g)].map((m) => Number(m[1]));
    expect(rest).toEqual([2, 1, 0]);
    expect(older.text).not.toContain('data-search-older');
  });

  it('answers an empty query with a prompt, a too long one with a clear 400, and odd input without failing', async () => {
    expect((await search('')).text).toContain('Type words to look for');
    expect((await search('!!! ...')).results).toEqual([]);
    const long = await search('x'.repeat(201));
    expect(long.status).toBe(400);
    expect(long.text).toContain('A search is at most 200 characters.');
    for (const odd of ['?q[$ne]=1', '?q=a&q=b', '?q=ok&before=zzz', '?q=%00%ff']) {
      expect((await request(server.current.url).get(`/search${odd}`)).status).toBe(200);
    }
  });

  it('is in the header of every page, in both languages', async () => {
    const en = await request(server.current.url).get('/');
    expect(en.text).toMatch(/<form class="d-flex header-search" role="search" method="get" action="\/search"/);
    const zh = await request(server.current.url).get('/search?q=').set('Accept-Language', 'zh-CN');
    expect(zh.text).toContain('搜索帖子和回复');
  });
});

describe('the index API that edits and deletes call', () => {
  const scope = FORUM_SCOPE;
  const ref = () => `r:${new mongoose.Types.ObjectId().toString()}`;

  it('re-indexing an edited text finds its new words and no longer its old ones; unindexing removes it', async () => {
    const before = word('old');
    const after = word('new');
    const r = ref();
    const text = { ref: r, title: 'Edited', author: alice.username, href: '/posts/x', at: new Date() };
    await server.current.search.index(scope, { ...text, body: `${before} words` });
    expect((await search(before)).results).toHaveLength(1);
    await server.current.search.index(scope, { ...text, body: `${after} words` });
    expect((await search(before)).results).toEqual([]);
    expect((await search(after)).results).toHaveLength(1);
    await server.current.search.unindex(scope, r);
    expect((await search(after)).results).toEqual([]);
  });

  it('orders by when a text was written, whatever its id looks like (a message id is a hash), in a scope of its own', async () => {
    const w = word('hash');
    const memberScope = 'msg:someone';
    const texts = ['ffff', '0000', '8888'].map((id, i) => ({ ref: `m:${id.repeat(6)}`, body: `${w} ${i}`, author: 'x', href: `/messages/x#${i}`, at: new Date(Date.UTC(2026, 0, 1 + i)) }));
    for (const text of texts) await server.current.search.index(memberScope, text);
    const page = await server.current.search.search(memberScope, w, { limit: 2 });
    expect(page.results.map((r) => r.href)).toEqual(['/messages/x#2', '/messages/x#1']);
    const rest = await server.current.search.search(memberScope, w, { limit: 2, before: page.next });
    expect(rest.results.map((r) => r.href)).toEqual(['/messages/x#0']);
    expect(rest.next).toBeUndefined();
    // Another scope sees none of it.
    expect((await server.current.search.search(FORUM_SCOPE, w)).results).toEqual([]);
    await expect(server.current.search.index(memberScope, { ...texts[0]!, ref: 'm:has|bar' })).rejects.toThrow(/bad ref/);
  });

  it(`walks a word's postings across sealed buckets (more than ${BUCKET_SIZE}), newest first, each once`, async () => {
    const w = word('many');
    const total = BUCKET_SIZE * 2 + 37;
    const refs = Array.from({ length: total }, ref);
    await Promise.all(refs.map((r, i) => server.current.search.index(scope, { ref: r, title: `T${i}`, body: w, author: 'x', href: `/t/${i}`, at: new Date() })));
    const seen: string[] = [];
    let before: string | undefined;
    for (let pages = 0; pages < 200; pages++) {
      const page = await server.current.search.search(scope, w, { before, limit: 50 });
      seen.push(...page.results.map((r) => r.href));
      if (!page.next) break;
      before = page.next;
    }
    expect(seen).toEqual(refs.map((_r, i) => `/t/${i}`).reverse());
  });
});
