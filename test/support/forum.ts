// Posts and replies made through the real forms, as a signed-in user would.
import { expect } from 'vitest';
import { csrfToken, type SignedInUser } from './users.ts';

export async function createPost(user: SignedInUser, title: string, body = 'Some text.'): Promise<string> {
  const _csrf = await csrfToken(user.agent, '/posts/new');
  const res = await user.agent.post('/posts').type('form').send({ title, body, _csrf });
  expect(res.status, res.text.slice(0, 300)).toBe(303);
  const match = /^\/posts\/([0-9a-f]{24})$/.exec(res.headers.location ?? '');
  if (!match) throw new Error(`unexpected redirect after posting: ${res.headers.location}`);
  return match[1]!;
}

/**
 * Replies; resolves to where the forum sent the author (the reply's page and anchor).
 * Concurrent replies by one member pass the token they read first: a session gets its
 * token on first use, and two pages making one at once would each store a different one.
 */
export async function reply(user: SignedInUser, postId: string, body: string, token?: string): Promise<string> {
  const _csrf = token ?? (await csrfToken(user.agent, `/posts/${postId}`));
  const res = await user.agent.post(`/posts/${postId}/replies`).type('form').send({ body, _csrf });
  expect(res.status, res.text.slice(0, 300)).toBe(303);
  return res.headers.location!;
}

/** The titles listed on a home page, top to bottom. */
export function listedTitles(html: string): string[] {
  const list = /<ol class="list-unstyled post-list"[^>]*>([\s\S]*?)<\/ol>/.exec(html)?.[1] ?? '';
  return [...list.matchAll(/<h2 class="h5 mb-1"><a href="\/posts\/[0-9a-f]{24}">([^<]*)<\/a>/g)].map((m) => m[1]!);
}

/** The bodies of the replies on a post page, in order (a one-paragraph reply without its <p>). */
export function listedReplies(html: string): string[] {
  return [...html.matchAll(/<li class="reply"[\s\S]*?<div class="user-text mt-2">([\s\S]*?)<\/div>/g)].map((m) =>
    m[1]!.replace(/^<p>([\s\S]*)<\/p>\n$/, '$1'),
  );
}

/** Posts a form the way a browser would, with the token read from `page`. */
export async function submit(user: SignedInUser, page: string, action: string, fields: Record<string, string> = {}) {
  const _csrf = await csrfToken(user.agent, page);
  return user.agent.post(action).type('form').send({ ...fields, _csrf });
}

/** The posts a board page lists, top to bottom, and its "older posts" link. */
export function boardListing(html: string): { titles: string[]; older?: string } {
  return { titles: listedTitles(html), older: /href="([^"]+)" rel="next" data-older/.exec(html)?.[1]?.replaceAll('&amp;', '&') };
}

/** The ids of the replies on a post page, in order. */
export function replyIds(html: string): string[] {
  return [...html.matchAll(/data-reply-id="([0-9a-f]{24})"/g)].map((m) => m[1]!);
}

/** Every title a board lists, following its "older posts" links from the newest page to the last. */
export async function walkBoard(baseUrl: string, slug: string): Promise<string[]> {
  const { default: request } = await import('supertest');
  const seen: string[] = [];
  let href: string | undefined = `/boards/${slug}`;
  while (href) {
    const page = boardListing((await request(baseUrl).get(href)).text);
    expect(page.titles.length).toBeGreaterThan(0);
    seen.push(...page.titles);
    href = page.older;
  }
  return seen;
}
