import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPost } from '../support/forum.ts';
import { useTestServer } from '../support/server.ts';
import { csrfToken, registerUser, type SignedInUser } from '../support/users.ts';

const server = useTestServer();
let member: SignedInUser;
let postId: string;
beforeAll(async () => {
  member = await registerUser(server.current.url);
  postId = await createPost(member, 'Bilingual', 'Hello');
});

describe('languages', () => {
  it('follows Accept-Language', async () => {
    const zh = await request(server.current.url).get('/').set('Accept-Language', 'zh-CN,zh;q=0.9,en;q=0.8');
    expect(zh.text).toContain('<html lang="zh-CN">');
    expect(zh.text).toContain('最新帖子');
    expect(zh.text).toContain('0 条回复');
    const en = await request(server.current.url).get('/').set('Accept-Language', 'en-GB,en;q=0.9');
    expect(en.text).toContain('<html lang="en">');
    expect(en.text).toContain('Latest posts');
    expect(en.text).toContain('0 replies');
  });

  it('shows dates, forms and errors in Chinese', async () => {
    const page = await member.agent.get(`/posts/${postId}`).set('Accept-Language', 'zh-CN');
    expect(page.text).toMatch(/发表于 \d{4}年\d{1,2}月\d{1,2}日/);
    expect(page.text).toContain('发表回复');
    const _csrf = await csrfToken(member.agent, '/posts/new');
    const refused = await member.agent.post('/posts').set('Accept-Language', 'zh-CN').type('form').send({ title: '', body: 'x', _csrf });
    expect(refused.text).toContain('请填写帖子标题。');
    const missing = await request(server.current.url).get('/posts/nope').set('Accept-Language', 'zh-CN');
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('这个帖子不存在。');
    const profile = await request(server.current.url).get(`/users/${member.username}`).set('Accept-Language', 'zh-CN');
    expect(profile.text).toMatch(/加入于 \d{4}年\d{1,2}月\d{1,2}日/);
  });

  it('remembers the switcher’s choice over Accept-Language, and goes back where the reader was', async () => {
    const agent = request.agent(server.current.url);
    const switched = await agent.get(`/language/zh-CN?next=${encodeURIComponent(`/posts/${postId}`)}`);
    expect(switched.status).toBe(303);
    expect(switched.headers.location).toBe(`/posts/${postId}`);
    expect(String(switched.headers['set-cookie'])).toMatch(/parley\.lang=zh-CN;.*HttpOnly/);
    for (const path of ['/', `/posts/${postId}`, '/login']) {
      const page = await agent.get(path).set('Accept-Language', 'en');
      expect(page.text, path).toContain('<html lang="zh-CN">');
    }
    await agent.get('/language/en');
    expect((await agent.get('/').set('Accept-Language', 'zh-CN')).text).toContain('Latest posts');
  });

  it('offers the other language from every page, linking back to it', async () => {
    const home = await request(server.current.url).get('/?page=1');
    expect(home.text).toContain(`href="/language/zh-CN?next=${encodeURIComponent('/?page=1')}"`);
    const page = await request(server.current.url).get(`/posts/${postId}`);
    expect(page.text).toContain(`href="/language/zh-CN?next=${encodeURIComponent(`/posts/${postId}`)}"`);
    expect(page.text).toContain('<span class="nav-link active" lang="en" aria-current="true">English</span>');
    // A refused form has no address of its own: the switcher goes back to the form.
    const _csrf = await csrfToken(member.agent, '/posts/new');
    const refused = await member.agent.post('/posts').type('form').send({ title: '', body: 'x', _csrf });
    expect(refused.text).toContain(`href="/language/zh-CN?next=${encodeURIComponent('/posts/new')}"`);
  });

  it('never sends the reader to another site, and knows only its languages', async () => {
    for (const next of ['//evil.example', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)']) {
      const res = await request(server.current.url).get(`/language/en?next=${encodeURIComponent(next)}`);
      expect(res.headers.location, next).toBe('/');
    }
    const unknown = await request(server.current.url).get('/language/fr');
    expect(unknown.status).toBe(404);
    expect(unknown.headers['set-cookie']).toBeUndefined();
  });
});
