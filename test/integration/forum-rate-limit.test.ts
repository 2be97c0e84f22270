// Posts and replies share one rate limit per member (POST_RATE).
import { expect, it } from 'vitest';
import { createPost } from '../support/forum.ts';
import { useTestServer } from '../support/server.ts';
import { csrfToken, registerUser } from '../support/users.ts';

const server = useTestServer({ POST_RATE: '2/1m' });

it('refuses more posts and replies than the limit allows, saying how long to wait and keeping the text', async () => {
  const user = await registerUser(server.current.url);
  const id = await createPost(user, 'one');
  await createPost(user, 'two');
  const _csrf = await csrfToken(user.agent, '/posts/new');
  const post = await user.agent.post('/posts').type('form').send({ title: 'three', body: 'kept text', _csrf });
  expect(post.status).toBe(429);
  expect(post.text).toMatch(/You are posting too fast\. Please wait \d+ seconds/);
  expect(post.text).toContain('>kept text</textarea>');
  const replied = await user.agent.post(`/posts/${id}/replies`).type('form').send({ body: 'kept reply', _csrf });
  expect(replied.status).toBe(429);
  expect(replied.text).toContain('>kept reply</textarea>');

  // The limit is per member: someone else may still post.
  const other = await registerUser(server.current.url);
  await createPost(other, 'from someone else');
});
