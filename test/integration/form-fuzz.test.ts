// Property-based tests: random fields and values thrown at every form route, with and
// without a session and a valid CSRF token. Whatever arrives, the server answers with a
// 2xx/3xx/4xx (never a 5xx, never a hang), stays up, and stores something only for a
// request that was entitled to store it.
import crypto from 'node:crypto';
import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserModel, UsernameModel, usernameKey } from '../../src/accounts/user-model.ts';
import { neutraliseText } from '../../src/text/safety.ts';
import { PostModel } from '../../src/forum/model.ts';
import { MessageModel } from '../../src/messaging/models.ts';
import { LOCALES } from '../../src/i18n/index.ts';
import { createPost } from '../support/forum.ts';
import { useTestServer } from '../support/server.ts';
import { registerUser, type SignedInUser } from '../support/users.ts';

// The per-account login limit would turn the fuzzer's guesses at the member's account
// into 429s for the member's own sign-ins; it has its own test.
const server = useTestServer({ LOGIN_RATE_PER_ACCOUNT: '100000/1m' });
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
// Shrinking a counterexample costs several requests a step and can outlast the time limit
// on a busy machine, hiding the counterexample; the first one found (with its seed) is
// reported at once unless FUZZ_SHRINK=1 asks for the smallest.
const endOnFailure = process.env.FUZZ_SHRINK !== '1';
// Hang detectors only: a request takes milliseconds and a property seconds on an idle machine.
const HANG_MS = 30_000;
const PROPERTY_TIMEOUT_MS = 180_000;
const BODY_LIMIT = 64 * 1024;
const SITE = 'http://parley.test';

// --- what the fuzzer sends ------------------------------------------------------------

const FORM_FIELDS = ['username', 'password', 'title', 'body', 'next', 'content', 'to', 'from_user'] as const;

/** Field names: ours, random ones, operator-looking ones, bracketed ones, prototype names. */
const fieldName = fc
  .oneof(
    { weight: 3, arbitrary: fc.constantFrom(...FORM_FIELDS, '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty') },
    { weight: 2, arbitrary: fc.string({ maxLength: 16 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
    { weight: 2, arbitrary: fc.string({ maxLength: 8 }).map((s) => `$${s}`) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(...FORM_FIELDS), fc.oneof(fc.constantFrom('$ne', '$gt', '$where', '', '0', '__proto__'), fc.string({ maxLength: 6 })))
        .map(([name, inner]) => `${name}[${inner}]`),
    },
  )
  .filter((name) => name !== '_csrf'); // the token is placed on purpose, below

const NASTY = [
  '', ' ', '\u0000', '\r\n', '\t', '$ne', '{"$gt": ""}', '[object Object]', 'null', 'undefined', 'NaN', '-1', '1e309',
  '<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', '../../etc/passwd', '%00', '%', '%ZZ', '\u202e\u0645',
  '\u{1F600}', '\uFEFF', 'ß'.repeat(30), '小明', '//evil.example', '/\\evil.example', 'https://evil.example', 'javascript:alert(1)',
];

const fieldValue = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) }, // lone surrogates too
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  // Huge: from well inside the body limit to well past it (never past the unread limit).
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x', 'é', '界'), fc.integer({ min: 1_000, max: 100_000 })).map(([c, n]) => c.repeat(n)) },
);

/**
 * Past this the app refuses a body without reading it and closes the connection while the
 * client may still be sending: a test of its own (abuse-limits), not one for the fuzzer.
 */
const UNREAD_ABOVE = 16 * BODY_LIMIT;

/** Repeated keys, which a form parser turns into arrays. */
const fieldPairs = fc
  .array(fc.tuple(fieldName, fc.array(fieldValue, { minLength: 1, maxLength: 3 })), { maxLength: 6 })
  .map((entries) => entries.flatMap(([name, values]) => values.map((value) => [name, value] as [string, string])))
  .filter((pairs) => pairs.reduce((bytes, [k, v]) => bytes + 3 * Buffer.byteLength(k + v), 0) < UNREAD_ABOVE - 4096);

/** JSON values with nesting, operator keys and a prototype-pollution attempt. */
const jsonNoise = fc
  .oneof(
    { weight: 4, arbitrary: fc.dictionary(fieldName, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }) },
    // Parsed, not written as a literal: a literal's __proto__ sets the prototype instead of a key.
    { weight: 1, arbitrary: fc.constant(JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}') as Record<string, unknown>) },
    { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...FORM_FIELDS), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fieldValue)) },
  )
  .filter((value) => Buffer.byteLength(JSON.stringify(value)) < UNREAD_ABOVE - 4096);

const MALFORMED = ['%', '%E4%B8', '%ZZ=1', '&&&', '=', '==x', '+++', 'a=%C0%AF', '{"username": ', '[1,2', 'null', '"string"', '\u0000'];

/** Types the app does not read: the body is ignored, not refused. */
const OTHER_TYPES = ['text/plain', 'multipart/form-data; boundary=x', 'application/xml', 'application/*', 'garbage/;;;=', 'application/jsonx'];
/** Charsets on a form or JSON body: some read, some refused, some read as garbage. */
const CHARSETS = ['utf-8', 'UTF-8', 'iso-8859-1', 'utf-16', 'koi8-r', 'x-evil'];

/**
 * How the request is (or is not) entitled to change state: a session cookie, a CSRF
 * token in the form or in a header, or some wrong mix of them.
 */
type AuthMode = 'none' | 'session' | 'token-only' | 'foreign-token' | 'wrong-token' | 'twice' | 'both' | 'header';
const authMode = fc.constantFrom<AuthMode>('none', 'session', 'token-only', 'foreign-token', 'wrong-token', 'twice', 'both', 'both', 'header', 'header');

const fuzzInput = fc.record({
  encoding: fc.constantFrom('form', 'form', 'json', 'json', 'other'),
  /** Whether the route's valid fields are sent (noise may still spoil them). */
  withValidFields: fc.boolean(),
  pairs: fieldPairs,
  json: jsonNoise,
  /** A JSON array or scalar instead of an object. */
  jsonNotObject: fc.option(fc.jsonValue({ maxDepth: 2 }), { freq: 8 }),
  malformed: fc.option(fc.constantFrom(...MALFORMED), { freq: 5 }),
  otherType: fc.constantFrom(...OTHER_TYPES),
  contentEncoding: fc.option(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-evil'), { freq: 8 }),
  charset: fc.option(fc.constantFrom(...CHARSETS), { freq: 6 }),
  auth: authMode,
});
type FuzzInput = typeof fuzzInput extends fc.Arbitrary<infer T> ? T : never;

interface Session {
  cookie: string;
  token: string;
}

/** Strict JSON parsing takes objects and arrays only; null stands for "an object" here. */
function isObjectOrArray(value: unknown): boolean {
  return value === null || typeof value === 'object';
}

/** Percent-encodes as a browser would: lone surrogates become U+FFFD first. */
function encode(text: string): string {
  return encodeURIComponent(Buffer.from(text, 'utf8').toString('utf8'));
}

interface Built {
  contentType: string;
  body: string;
  headers: Record<string, string>;
  /** The body is one the app's parsers read: a form or JSON, well-formed, within the limit. */
  parsed: boolean;
  /** The body parsers refuse the request before anything else looks at it (400/413/415). */
  rejected: boolean;
  /** A charset or compression that makes what the app reads hard to foretell: only the basic promises hold. */
  uncertain: boolean;
  /** The request carries the session and its own token where the app looks for it. */
  authorized: boolean;
  /** Each of the route's valid fields was sent exactly once, with its valid value. */
  validFieldsIntact: boolean;
  /** How each field was sent at the top level: a string, once — or not at all / not a string. */
  sentOnce: (field: string) => string | undefined;
}

function build(input: FuzzInput, valid: Record<string, string>, own: Session | undefined, foreign: Session): Built {
  const headers: Record<string, string> = {};
  if (own && input.auth !== 'none' && input.auth !== 'token-only') headers.Cookie = own.cookie;
  const token = { both: own?.token, twice: own?.token, 'foreign-token': foreign.token, 'wrong-token': 'not-a-token', 'token-only': foreign.token }[
    input.auth as string
  ];
  if (input.auth === 'header' && own) headers['X-CSRF-Token'] = own.token;
  if (input.contentEncoding) headers['Content-Encoding'] = input.contentEncoding;
  const validNames = Object.keys(valid);
  let contentType: string;
  let body: string;
  let sentOnce: Built['sentOnce'];
  let validFieldsIntact: boolean;

  if (input.encoding === 'json') {
    contentType = 'application/json';
    let value: unknown;
    if (input.jsonNotObject !== null) {
      value = input.jsonNotObject;
    } else {
      const object: Record<string, unknown> = { ...input.json };
      if (input.withValidFields) Object.assign(object, valid);
      if (token) object._csrf = input.auth === 'twice' ? [token, token] : token;
      value = object;
    }
    body = input.malformed && input.malformed.startsWith('{') ? input.malformed : JSON.stringify(value);
    const top = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
    sentOnce = (field) => (Object.hasOwn(top, field) && typeof top[field] === 'string' ? (top[field] as string) : undefined);
    validFieldsIntact = input.jsonNotObject === null && input.withValidFields && body === JSON.stringify(value);
  } else {
    contentType = input.encoding === 'form' ? 'application/x-www-form-urlencoded' : input.otherType;
    const pairs: [string, string][] = [...input.pairs];
    if (input.withValidFields) pairs.push(...Object.entries(valid));
    if (token) pairs.push(['_csrf', token]);
    if (token && input.auth === 'twice') pairs.push(['_csrf', token]);
    // Mix the real fields in among the noise: where they sit must not matter.
    pairs.sort((a, b) => (a[1].length % 7) - (b[1].length % 7));
    body = pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
    if (input.malformed) body += `&${input.malformed}`;
    sentOnce = (field) => {
      const values = pairs.filter(([k]) => k === field).map(([, v]) => v);
      return values.length === 1 ? values[0] : undefined;
    };
    validFieldsIntact = input.withValidFields && validNames.every((name) => pairs.filter(([k]) => k === name).length === 1);
  }

  // The body parsers read forms and JSON only; a body they read, they may refuse whole.
  const readable = input.encoding !== 'other';
  const rejected =
    readable &&
    (Buffer.byteLength(body) > BODY_LIMIT ||
      (input.encoding === 'json' && (Boolean(input.malformed?.startsWith('{')) || !isObjectOrArray(input.jsonNotObject))));
  if (readable && input.charset) contentType += `; charset=${input.charset}`;
  // Random bytes announced as compressed may still inflate to something (an empty brotli
  // stream is one byte), and a foreign charset turns text into other text.
  const uncertain =
    readable &&
    ((input.charset !== null && input.charset.toLowerCase() !== 'utf-8') ||
      (input.contentEncoding !== null && input.contentEncoding !== 'identity'));
  const parsed = readable && !rejected;
  const tokenInBody = input.encoding !== 'json' || input.jsonNotObject === null;
  const tokenWhereLooked = (input.auth === 'header' && !rejected) || (input.auth === 'both' && parsed && tokenInBody);
  return {
    contentType,
    body,
    headers,
    parsed,
    rejected,
    uncertain,
    authorized: Boolean(own) && tokenWhereLooked,
    validFieldsIntact,
    sentOnce,
  };
}

async function send(path: string, built: Built) {
  let req = request(server.current.url).post(path).timeout(HANG_MS);
  for (const [name, value] of Object.entries(built.headers)) req = req.set(name, value);
  return req.set('Content-Type', built.contentType).send(built.body);
}

/** What every answer must be, whatever was sent. */
function expectSaneAnswer(res: request.Response, built: Built): void {
  expect(res.status, res.text.slice(0, 300)).toBeGreaterThanOrEqual(200);
  expect(res.status, res.text.slice(0, 300)).toBeLessThan(500);
  if (res.status >= 300 && res.status < 400) {
    // Wherever a form sends the browser next, it stays on this site.
    expect(new URL(String(res.headers.location), SITE).origin).toBe(SITE);
  }
  if (built.uncertain) return;
  if (built.rejected && Buffer.byteLength(built.body) > BODY_LIMIT && !built.headers['Content-Encoding']) expect(res.status).toBe(413);
  if (built.rejected) expect([400, 413, 415]).toContain(res.status);
  else if (!built.authorized) expect(res.status).toBe(403);
}

// --- sessions ----------------------------------------------------------------------------

/** A fresh anonymous session with its CSRF token, as a visitor gets from a form page. */
async function visitorSession(): Promise<Session> {
  const res = await request(server.current.url).get('/login');
  const cookie = String((res.headers['set-cookie'] as unknown as string[])[0]).split(';')[0]!;
  const token = /name="_csrf" value="([^"]+)"/.exec(res.text)![1]!;
  return { cookie, token };
}

async function memberSession(user: SignedInUser): Promise<Session> {
  const res = await request(server.current.url).get('/posts/new').set('Cookie', user.cookie);
  return { cookie: user.cookie, token: /name="_csrf" value="([^"]+)"/.exec(res.text)![1]! };
}

async function signedInSession(user: SignedInUser): Promise<Session> {
  const visitor = await visitorSession();
  const res = await request(server.current.url)
    .post('/login')
    .set('Cookie', visitor.cookie)
    .type('form')
    .send({ username: user.username, password: user.password, _csrf: visitor.token });
  expect(res.status).toBe(303);
  // The session's cookie (sign-in also sets the known-device cookie).
  const cookie = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('parley.sid='))!.split(';')[0]!;
  return memberSession({ ...user, cookie });
}

async function isSignedIn(cookie: string): Promise<boolean> {
  return (await request(server.current.url).get('/').set('Cookie', cookie)).text.includes('action="/logout"');
}

let member: SignedInUser;
let friend: SignedInUser;
let memberSide: Session;
let foreign: Session;
let stranger: Session;
let postId: string;
let requestsSent = 0;

beforeAll(async () => {
  member = await registerUser(server.current.url);
  friend = await registerUser(server.current.url);
  memberSide = await memberSession(member);
  foreign = await visitorSession();
  stranger = await visitorSession();
  postId = await createPost(member, 'A post to reply to');
});

afterAll(() => {
  console.log(`[form fuzz] ${requestsSent} requests sent`);
});

async function expectHealthy(): Promise<void> {
  expect((await request(server.current.url).get('/healthz')).status).toBe(200);
  expect(await isSignedIn(member.cookie)).toBe(true);
}

// --- the properties, route by route ------------------------------------------------------

describe('form fuzzing', () => {
  it('POST /register creates an account only for a valid, entitled request', { timeout: PROPERTY_TIMEOUT_MS }, async () => {
    await fc.assert(
      fc.asyncProperty(fuzzInput, async (input) => {
        const username = `fz${crypto.randomBytes(5).toString('hex')}`;
        const built = build(input, { username, password: 'long enough password' }, await visitorSession(), foreign);
        const users = await UserModel.countDocuments();
        const res = await send('/register', built);
        requestsSent += 1;
        expectSaneAnswer(res, built);
        const created = (await UserModel.countDocuments()) - users;
        expect(created).toBe(res.status === 303 ? 1 : 0);
        if (built.authorized && built.parsed && !built.uncertain && built.validFieldsIntact) expect(res.status).toBe(303);
        if (created) {
          // Whoever was created is exactly the name sent, once, as a string.
          const sent = built.sentOnce('username');
          expect(sent).toBeDefined();
          const entry = await UsernameModel.findById(usernameKey(sent!.trim())).lean();
          expect(entry).not.toBeNull();
          expect((await UserModel.findById(entry!.userId).lean())?.username).toBe(sent!.trim());
        }
      }),
      { numRuns: RUNS, endOnFailure },
    );
    await expectHealthy();
  });

  it('POST /login signs in only with the right password, sent once as a string', { timeout: PROPERTY_TIMEOUT_MS }, async () => {
    await fc.assert(
      fc.asyncProperty(fuzzInput, async (input) => {
        const session = await visitorSession();
        const built = build(input, { username: member.username, password: member.password }, session, foreign);
        const users = await UserModel.countDocuments();
        const res = await send('/login', built);
        requestsSent += 1;
        expectSaneAnswer(res, built);
        expect(await UserModel.countDocuments()).toBe(users);
        if (res.status === 303) {
          expect(built.authorized).toBe(true);
          expect(built.sentOnce('password')).toBe(member.password);
          expect(built.sentOnce('username')?.trim().toLowerCase()).toBe(member.username.toLowerCase());
        }
        if (built.authorized && built.parsed && !built.uncertain && built.validFieldsIntact) expect(res.status).toBe(303);
        if (res.status !== 303) expect(await isSignedIn(session.cookie)).toBe(false);
      }),
      { numRuns: RUNS, endOnFailure },
    );
    await expectHealthy();
  });

  it('POST /logout ends the session only for an entitled request', { timeout: PROPERTY_TIMEOUT_MS }, async () => {
    await fc.assert(
      fc.asyncProperty(fuzzInput, async (input) => {
        const session = await signedInSession(member);
        const built = build(input, {}, session, foreign);
        const res = await send('/logout', built);
        requestsSent += 1;
        expectSaneAnswer(res, built);
        const stillIn = await isSignedIn(session.cookie);
        expect(stillIn).toBe(res.status !== 303);
        if (built.authorized && !built.uncertain) expect(res.status).toBe(303);
      }),
      { numRuns: Math.ceil(RUNS / 2), endOnFailure },
    );
    await expectHealthy();
  });

  const validPost = fc.record({
    title: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ]{0,40}$/),
    body: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 .,!?\n]{0,200}$/),
  });

  it('POST /posts stores a post only for a signed-in member’s valid, entitled request', { timeout: PROPERTY_TIMEOUT_MS }, async () => {
    await fc.assert(
      fc.asyncProperty(fuzzInput, validPost, fc.boolean(), async (input, valid, asMember) => {
        const built = build(input, valid, asMember ? memberSide : stranger, foreign);
        const posts = await PostModel.countDocuments();
        const res = await send('/posts', built);
        requestsSent += 1;
        expectSaneAnswer(res, built);
        const location = String(res.headers.location ?? '');
        const created = /^\/posts\/[0-9a-f]{24}$/.test(location);
        expect((await PostModel.countDocuments()) - posts).toBe(created ? 1 : 0);
        if (asMember && built.authorized && built.parsed && !built.uncertain && built.validFieldsIntact) expect(created).toBe(true);
        if (created) {
          expect(asMember && built.authorized).toBe(true);
          const post = await PostModel.findById(location.slice('/posts/'.length)).lean();
          expect(post?.authorId.toString()).toBe(member.id);
          // What is stored came from the fields sent once each, and is clean of control characters.
          for (const field of ['title', 'body'] as const) {
            expect(built.sentOnce(field)).toBeDefined();
            // eslint-disable-next-line no-control-regex
            expect(post![field]).toMatch(/^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]+$/);
          }
        }
      }),
      { numRuns: RUNS, endOnFailure },
    );
    await expectHealthy();
  });

  const targetPost = fc.oneof(
    { weight: 6, arbitrary: fc.constant('the post') },
    { weight: 1, arbitrary: fc.constantFrom('0'.repeat(24), 'f'.repeat(24), 'zzzzzzzzzzzzzzzzzzzzzzzz', '', '..', '%', '%E4%B8', '$ne', '[object Object]') },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }).map(encode) },
  );

  it('POST /posts/:id/replies stores a reply only on a real post, for a valid, entitled request', { timeout: PROPERTY_TIMEOUT_MS }, async () => {
    await fc.assert(
      fc.asyncProperty(fuzzInput, validPost, targetPost, fc.boolean(), async (input, valid, target, asMember) => {
        const built = build(input, { body: valid.body }, asMember ? memberSide : stranger, foreign);
        const before = (await PostModel.findById(postId).lean())!.replyCount;
        const res = await send(`/posts/${target === 'the post' ? postId : target}/replies`, built);
        requestsSent += 1;
        expectSaneAnswer(res, built);
        const location = String(res.headers.location ?? '');
        const created = location.startsWith(`/posts/${postId}`);
        expect((await PostModel.findById(postId).lean())!.replyCount - before).toBe(created ? 1 : 0);
        if (target === 'the post' && asMember && built.authorized && built.parsed && !built.uncertain && built.validFieldsIntact) expect(created).toBe(true);
        if (created) expect(target === 'the post' && asMember && built.authorized && built.sentOnce('body') !== undefined).toBe(true);
      }),
      { numRuns: RUNS, endOnFailure },
    );
    await expectHealthy();
  });

  it('POST /posts/:id/edit changes a post only for its author’s valid, entitled request', { timeout: PROPERTY_TIMEOUT_MS }, async () => {
    await fc.assert(
      fc.asyncProperty(fuzzInput, validPost, targetPost, fc.boolean(), async (input, valid, target, asMember) => {
        const built = build(input, valid, asMember ? memberSide : stranger, foreign);
        const before = (await PostModel.findById(postId).lean())!;
        const res = await send(`/posts/${target === 'the post' ? postId : target}/edit`, built);
        requestsSent += 1;
        expectSaneAnswer(res, built);
        const after = (await PostModel.findById(postId).lean())!;
        const edited = res.status === 303 && res.headers.location === `/posts/${postId}`;
        if (!edited) expect([after.title, after.body]).toEqual([before.title, before.body]);
        if (target === 'the post' && asMember && built.authorized && built.parsed && !built.uncertain && built.validFieldsIntact) expect(edited).toBe(true);
        if (edited) {
          expect(target === 'the post' && asMember && built.authorized).toBe(true);
          // As the form schema cleans it (text/safety.ts), trimmed, one line.
          expect(after.title).toBe(neutraliseText(built.sentOnce('title')!).trim().replace(/\s+/g, ' '));
        }
      }),
      { numRuns: RUNS, endOnFailure },
    );
    await expectHealthy();
  });

  const validMessage = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 .,!?\n]{0,200}$/);

  /** Whether a message sent by form was stored: then, and only then, the form goes on to the conversation. */
  async function expectStoredOnlyOnRedirect(res: request.Response, messagesBefore: number): Promise<boolean> {
    const stored = res.status === 303 && res.headers.location === `/messages/${encodeURIComponent(friend.username)}`;
    expect((await MessageModel.countDocuments()) - messagesBefore).toBe(stored ? 1 : 0);
    return stored;
  }

  it('POST /messages (the compose form) stores a message only for a member’s valid, entitled request', { timeout: PROPERTY_TIMEOUT_MS }, async () => {
    await fc.assert(
      fc.asyncProperty(fuzzInput, validMessage, fc.boolean(), async (input, content, asMember) => {
        const built = build(input, { to: friend.username, content }, asMember ? memberSide : stranger, foreign);
        const before = await MessageModel.countDocuments();
        const res = await send('/messages', built);
        requestsSent += 1;
        expectSaneAnswer(res, built);
        const stored = await expectStoredOnlyOnRedirect(res, before);
        if (asMember && built.authorized && built.parsed && !built.uncertain && built.validFieldsIntact) expect(stored).toBe(true);
        if (stored) expect(asMember && built.authorized && built.sentOnce('to') !== undefined && built.sentOnce('content') !== undefined).toBe(true);
      }),
      { numRuns: RUNS, endOnFailure },
    );
    await expectHealthy();
  });

  const recipient = fc.oneof(
    { weight: 6, arbitrary: fc.constant('the friend') },
    { weight: 1, arbitrary: fc.constantFrom('the member', 'nobody-at-all', '', '%', '%E4%B8', '$ne', '..', '%2e%2e', 'constructor', '__proto__') },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }).map(encode) },
  );

  it('POST /messages/:username stores a message only to a real member, for a valid, entitled request', { timeout: PROPERTY_TIMEOUT_MS }, async () => {
    await fc.assert(
      fc.asyncProperty(fuzzInput, validMessage, recipient, fc.boolean(), async (input, content, to, asMember) => {
        const built = build(input, { content }, asMember ? memberSide : stranger, foreign);
        const name = { 'the friend': friend.username, 'the member': member.username }[to] ?? to;
        const before = await MessageModel.countDocuments();
        const res = await send(`/messages/${to === name ? name : encodeURIComponent(name)}`, built);
        requestsSent += 1;
        expectSaneAnswer(res, built);
        const stored = await expectStoredOnlyOnRedirect(res, before);
        if (to === 'the friend' && asMember && built.authorized && built.parsed && !built.uncertain && built.validFieldsIntact) expect(stored).toBe(true);
        if (stored) expect(to === 'the friend' && asMember && built.authorized && built.sentOnce('content') !== undefined).toBe(true);
      }),
      { numRuns: RUNS, endOnFailure },
    );
    await expectHealthy();
  });

  const locale = fc.oneof(
    fc.constantFrom(...LOCALES),
    fc.constantFrom('EN', 'zh-cn', 'zh', '..', '%2e%2e', '%', 'en%00', '__proto__', 'constructor'),
    fc.string({ maxLength: 12 }).map(encode),
  );
  const nextValues = fc.array(
    fc.oneof(
      fieldValue,
      fc.constantFrom('/posts/new', '//evil.example', '/\\evil.example', '/\t/evil.example', '/\n/evil.example', '\\\\evil.example', '/%2F%2Fevil.example', ' //evil.example', 'http:evil.example', '/.//evil.example'),
    ),
    { maxLength: 3 },
  );

  it('GET /language/:locale sets only a known language and sends the reader back only within the site', { timeout: PROPERTY_TIMEOUT_MS }, async () => {
    await fc.assert(
      fc.asyncProperty(locale, nextValues, fc.option(fc.constantFrom(...MALFORMED), { freq: 4 }), async (code, nexts, malformed) => {
        const query = [...nexts.map((n) => `next=${encode(n)}`), ...(malformed ? [malformed] : [])].join('&');
        const res = await request(server.current.url).get(`/language/${code}?${query}`).timeout(HANG_MS);
        requestsSent += 1;
        expect(res.status).toBeGreaterThanOrEqual(200);
        expect(res.status).toBeLessThan(500);
        const cookies = (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
        const chosen = cookies.find((c) => c.startsWith('parley.lang='));
        if (res.status === 303) {
          expect(new URL(String(res.headers.location), SITE).origin).toBe(SITE);
          expect(LOCALES as readonly string[]).toContain(decodeURIComponent(chosen!.split(';')[0]!.slice('parley.lang='.length)));
        } else {
          expect(chosen).toBeUndefined();
        }
      }),
      { numRuns: RUNS, endOnFailure },
    );
    await expectHealthy();
  });

  const pagePath = fc.oneof(
    fc.constantFrom('/', '/login', '/register', '/posts/new', '/posts/the-post', '/users/the-member', '/messages', '/messages/the-member', '/api/inbox'),
    fc.tuple(fc.constantFrom('/posts/', '/users/', '/avatars/', '/static/', '/vendor/jquery/', '/messages/', '/api/users/suggest?q='), fc.oneof(fc.string({ unit: 'grapheme', maxLength: 30 }).map(encode), fc.constantFrom(...MALFORMED.map(encode), '%', '%E4%B8', '..%2F..%2Fpackage.json', '%2e%2e/%2e%2e/package.json'))).map(([a, b]) => a + b),
  );
  const query = fc.array(
    fc.tuple(fc.constantFrom('page', 'next', 'page[$gt]', 'q', 'before', 'after', '__proto__[x]'), fc.oneof(fieldValue.filter((v) => v.length < 2000), fc.constantFrom('0', '-1', '1e9', '99999999999999999999', 'NaN', '2.5', '0x10'))),
    { maxLength: 3 },
  );

  it('GET pages answer any path and query without a server error', { timeout: PROPERTY_TIMEOUT_MS }, async () => {
    await fc.assert(
      fc.asyncProperty(pagePath, query, fc.boolean(), async (rawPath, params, signedIn) => {
        const path = rawPath.replace('the-post', postId).replace('the-member', encode(member.username));
        const search = params.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
        let req = request(server.current.url).get(`${path}?${search}`).timeout(HANG_MS);
        if (signedIn) req = req.set('Cookie', member.cookie);
        const res = await req;
        requestsSent += 1;
        expect(res.status, `${path}?${search}`).toBeGreaterThanOrEqual(200);
        expect(res.status, `${path}?${search}`).toBeLessThan(500);
        if (res.status >= 300 && res.status < 400) expect(new URL(String(res.headers.location), SITE).origin).toBe(SITE);
        // Nothing outside public/ and the vendored libraries is ever served.
        expect(res.text).not.toContain('"name": "parley"');
      }),
      { numRuns: RUNS, endOnFailure },
    );
    await expectHealthy();
  });

  it('leaves Object.prototype alone', () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });
});
