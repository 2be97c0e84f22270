// SEARCH_RATE: each search walks posting lists and reads documents, so a member (or an
// address, signed out) gets a few a minute; what is over says how long to wait.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { useTestServer } from '../support/server.ts';
import { registerUser } from '../support/users.ts';

const server = useTestServer({ SEARCH_RATE: '3/1m' });

describe('the search rate limit', () => {
  it('refuses a member’s searches over the limit with how long to wait, and counts each member apart', async () => {
    const [ana, bo] = await Promise.all([registerUser(server.current.url), registerUser(server.current.url)]);
    for (let i = 0; i < 3; i++) expect((await ana.agent.get(`/search?q=word${i}`)).status).toBe(200);
    const refused = await ana.agent.get('/search?q=again');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.text).toMatch(/You are searching too fast\. Please wait \d+ seconds\./);
    // Opening the page without a query costs nothing; another member is not affected.
    expect((await ana.agent.get('/search')).status).toBe(200);
    expect((await bo.agent.get('/search?q=word')).status).toBe(200);
  });

  it('counts visitors who are not signed in by address', async () => {
    const visitor = () => request(server.current.url).get('/search?q=visitor');
    for (let i = 0; i < 3; i++) expect((await visitor()).status).toBe(200);
    expect((await visitor()).status).toBe(429);
  });
});
