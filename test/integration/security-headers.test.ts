// What a browser is told to protect the member with: CSP, framing, sniffing, cookie flags.
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPost, reply } from '../support/forum.ts';
import { useTestServer } from '../support/server.ts';
import { csrfToken, registerUser, type SignedInUser } from '../support/users.ts';

/** The directives of a Content-Security-Policy header, by name. */
function directives(header: string | undefined): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const part of (header ?? '').split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) map.set(name, values);
  }
  return map;
}

/** The Set-Cookie line for one cookie. */
function setCookieLine(setCookie: unknown, name: string): string {
  const lines = Array.isArray(setCookie) ? (setCookie as string[]) : [];
  const line = lines.find((l) => l.startsWith(`${name}=`));
  expect(line, `a Set-Cookie for ${name}`).toBeDefined();
  return line!;
}

/** A cookie's attributes (after its name=value), lower-cased. */
function cookieAttributes(setCookie: unknown, name: string): string[] {
  return setCookieLine(setCookie, name).split(';').slice(1).map((a) => a.trim().toLowerCase());
}

describe('on every kind of page', () => {
  const server = useTestServer();
  let member: SignedInUser;
  const pages: string[] = ['/', '/login', '/register', '/no/such/page', '/static/css/parley.css', '/healthz'];

  beforeAll(async () => {
    member = await registerUser(server.current.url);
    const postId = await createPost(member, '<script>alert(1)</script> title', 'body with <img src=x onerror=alert(1)>');
    await reply(member, postId, '<b onclick="alert(1)">reply</b>');
    pages.push(`/posts/${postId}`, '/posts/new', `/users/${encodeURIComponent(member.username)}`, `/posts/${'0'.repeat(24)}`);
  });

  it('sends a strict CSP: scripts and styles from the site only, nothing inline, no framing', async () => {
    for (const path of pages) {
      const res = await member.agent.get(path);
      const csp = directives(res.headers['content-security-policy']);
      expect(csp.get('script-src'), path).toEqual(["'self'"]);
      expect(csp.get('style-src'), path).toEqual(["'self'"]);
      expect(csp.get('frame-ancestors'), path).toEqual(["'none'"]);
      expect(csp.get('object-src'), path).toEqual(["'none'"]);
      expect(csp.get('default-src'), path).toEqual(["'self'"]);
      expect(res.headers['content-security-policy'], path).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
      expect(res.headers['x-content-type-options'], path).toBe('nosniff');
      expect(res.headers['x-frame-options'], path).toBe('DENY');
      expect(res.headers['x-powered-by'], path).toBeUndefined();
    }
  });

  it('sends the same headers with Socket.IO\u2019s own responses: its client script, polling and handshakes', async () => {
    const paths = ['/socket.io/socket.io.min.js', '/socket.io/?EIO=4&transport=polling', '/socket.io/?EIO=4&transport=nonsense'];
    for (const path of paths) {
      const res = await member.agent.get(path);
      const csp = directives(res.headers['content-security-policy']);
      expect(csp.get('script-src'), path).toEqual(["'self'"]);
      expect(csp.get('frame-ancestors'), path).toEqual(["'none'"]);
      expect(res.headers['x-content-type-options'], path).toBe('nosniff');
      expect(res.headers['x-frame-options'], path).toBe('DENY');
    }
  });

  it('puts nothing inline that the CSP would have to allow, and escapes what members wrote', async () => {
    for (const path of pages) {
      const res = await member.agent.get(path);
      if (!String(res.headers['content-type']).startsWith('text/html')) continue;
      const html = res.text;
      for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag, path).toMatch(/\ssrc="\/[^"]+"/);
      expect(html, path).not.toMatch(/<script\b[^>]*>[^<]+<\/script>/);
      // Members' text is escaped, so every "<" left starts a tag the templates wrote.
      for (const tag of html.match(/<[a-z][^>]*>/gi) ?? []) {
        expect(tag, path).not.toMatch(/\son[a-z]+\s*=/i);
        expect(tag, path).not.toMatch(/\sstyle\s*=/i);
      }
      expect(html, path).not.toContain('<script>alert(1)</script>');
      expect(html, path).not.toContain('<img src=x');
    }
  });

  it('sends the same headers with a 413 refusal', async () => {
    const res = await request(server.current.url).post('/login').type('form').send(`username=${'x'.repeat(70 * 1024)}`);
    expect(res.status).toBe(413);
    expect(directives(res.headers['content-security-policy']).get('script-src')).toEqual(["'self'"]);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('cookies over plain HTTP', () => {
  const server = useTestServer();

  it('keeps the session cookie from scripts and other sites, without Secure (no TLS here)', async () => {
    const agent = request.agent(server.current.url);
    const _csrf = await csrfToken(agent, '/register');
    const res = await agent.post('/register').type('form').send({ username: `plain${Date.now() % 100000}`, password: 'long enough pw', _csrf });
    expect(res.status).toBe(303);
    const attributes = cookieAttributes(res.headers['set-cookie'], 'parley.sid');
    expect(attributes).toContain('httponly');
    expect(attributes).toContain('samesite=lax');
    expect(attributes).toContain('path=/');
    expect(attributes).not.toContain('secure');
  });

  it('keeps the known-device cookie from scripts, other sites and every path but the sign-in form', async () => {
    const agent = request.agent(server.current.url);
    const username = `device${Date.now() % 100000}`;
    let _csrf = await csrfToken(agent, '/register');
    expect((await agent.post('/register').type('form').send({ username, password: 'long enough pw', _csrf })).status).toBe(303);
    _csrf = await csrfToken(agent, '/');
    await agent.post('/logout').type('form').send({ _csrf });
    _csrf = await csrfToken(agent, '/login');
    const res = await agent.post('/login').type('form').send({ username, password: 'long enough pw', _csrf });
    expect(res.status).toBe(303);
    const attributes = cookieAttributes(res.headers['set-cookie'], 'parley.device');
    expect(attributes).toContain('httponly');
    expect(attributes).toContain('samesite=lax');
    expect(attributes).toContain('path=/login');
    expect(attributes).not.toContain('secure');
  });

  it('does not take the client’s word for HTTPS when no proxy is trusted', async () => {
    const res = await request(server.current.url).get('/language/zh-CN').set('X-Forwarded-Proto', 'https');
    expect(cookieAttributes(res.headers['set-cookie'], 'parley.lang')).not.toContain('secure');
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('cookies behind a TLS-terminating proxy (TRUST_PROXY)', () => {
  const server = useTestServer({ TRUST_PROXY: 'loopback' });

  it('marks the session cookie Secure when the proxy says the request came over HTTPS', async () => {
    const agent = request.agent(server.current.url);
    const page = await agent.get('/register').set('X-Forwarded-Proto', 'https');
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
    // A visitor's form token rests on a cookie of its own (no stored session yet): Secure too.
    expect(cookieAttributes(page.headers['set-cookie'], 'parley.csrf')).toEqual(expect.arrayContaining(['httponly', 'samesite=lax', 'secure']));
    const cookie = setCookieLine(page.headers['set-cookie'], 'parley.csrf').split(';')[0]!;
    const res = await request(server.current.url)
      .post('/register')
      .set('X-Forwarded-Proto', 'https')
      .set('Cookie', cookie)
      .type('form')
      .send({ username: `tls${Date.now() % 100000}`, password: 'long enough pw', _csrf: token });
    expect(res.status).toBe(303);
    const attributes = cookieAttributes(res.headers['set-cookie'], 'parley.sid');
    expect(attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=lax', 'secure']));
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
  });

  it('marks the language cookie Secure too', async () => {
    const res = await request(server.current.url).get('/language/zh-CN').set('X-Forwarded-Proto', 'https');
    expect(cookieAttributes(res.headers['set-cookie'], 'parley.lang')).toEqual(expect.arrayContaining(['httponly', 'samesite=lax', 'secure']));
  });
});
