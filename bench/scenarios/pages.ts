// Pages under load, beside Express hello-world in the same run. Each server runs in a
// child process with NODE_ENV=production; each page is a path (and, if it needs one, a
// signed-in user's cookie) measured by the same function.
import path from 'node:path';
import { REPLIES_PER_PAGE } from '../../src/forum/model.ts';
import { measurePage, type PageRequest, type PageResult } from '../lib/http-load.ts';
import { projectRoot, type BenchOptions } from '../lib/options.ts';
import { seedConversations, seedForum } from '../lib/parley-content.ts';
import { startParleyFixture } from '../lib/parley-fixture.ts';
import { startChildServer } from '../lib/processes.ts';
import { formatNumber, type Figure, type ScenarioReport } from '../lib/report-model.ts';

export interface PageCase {
  /** Figure key, e.g. "pages.hello". */
  key: string;
  label: string;
  request: PageRequest;
  /**
   * Text the page must contain, checked on one request before measuring: a signed-in
   * page shows its member's name, so a cookie that did not sign in is caught here rather
   * than measured as a fast anonymous page.
   */
  mustContain?: string;
}

/** A server ready to measure: its pages say what to request, with what they show already stored. */
export interface PageSite {
  url: string;
  pages: PageCase[];
  stop(): Promise<void>;
}

export interface PageServer {
  label: string;
  start(progress: (line: string) => void): Promise<PageSite>;
}

export const helloWorld: PageServer = {
  label: 'Express hello-world',
  async start() {
    const server = await startChildServer({
      name: 'hello',
      script: path.join(projectRoot, 'bench/servers/hello-server.ts'),
      env: { NODE_ENV: 'production' },
      readyPath: '/',
    });
    return { url: server.url, pages: [{ key: 'pages.hello', label: 'Express hello-world `/`', request: { path: '/' } }], stop: () => server.stop() };
  },
};

/** What the Parley pages show: a forum's worth of posts, one long thread, a member's inbox. */
export const PARLEY_CONTENT = { posts: 200, busyReplies: 25, authors: 8, conversations: 20, messagesPerConversation: 2 };

export const parleyPages: PageServer = {
  label: 'Parley',
  async start(progress) {
    const fixture = await startParleyFixture();
    try {
      const c = PARLEY_CONTENT;
      const [member] = await fixture.createUsers(1, 'member');
      const authors = await fixture.createUsers(c.authors, 'author');
      const correspondents = await fixture.createUsers(c.conversations, 'friend');
      const seedStarted = performance.now();
      const forum = await seedForum({ uri: fixture.engine.uri, name: fixture.db.databaseName }, authors, c);
      const messages = await seedConversations(fixture.server.url, member!, correspondents, c.messagesPerConversation);
      progress(
        `seeded ${c.posts} posts (one with ${c.busyReplies} replies) and ${messages} messages in ` +
          `${c.conversations} conversations in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`,
      );
      // The header's link to the member's own profile: only a signed-in page has it.
      const signedIn = { headers: member!.headers, mustContain: `>${member!.username}</a>` };
      const postPath = `/posts/${forum.busyPostId}`;
      const pages: PageCase[] = [
        { key: 'pages.parley.home', label: `Parley \`/\` (${c.posts} posts), signed in`, request: { path: '/', headers: signedIn.headers }, mustContain: signedIn.mustContain },
        {
          key: 'pages.parley.post',
          label: `Parley \`/posts/:id\` (${REPLIES_PER_PAGE} replies shown of ${c.busyReplies}), signed in`,
          request: { path: postPath, headers: signedIn.headers },
          mustContain: signedIn.mustContain,
        },
        {
          key: 'pages.parley.messages',
          label: `Parley \`/messages\` (${c.conversations} conversations), signed in`,
          request: { path: '/messages', headers: signedIn.headers },
          mustContain: signedIn.mustContain,
        },
        // A board's newest page, and the page that holds its very first post: both a few reads by `_id`.
        { key: 'pages.parley.board', label: `Parley \`/boards/general\` (${c.posts} posts), signed in`, request: { path: '/boards/general', headers: signedIn.headers }, mustContain: signedIn.mustContain },
        {
          key: 'pages.parley.boardFirst',
          label: 'Parley `/boards/general?before=21` (its first posts), signed in',
          request: { path: '/boards/general?before=21', headers: signedIn.headers },
          mustContain: signedIn.mustContain,
        },
        // autocannon keeps no cookies, and an anonymous page makes no session: every request is a
        // first visit. Beside the signed-in figures, these say what being signed in costs a page.
        { key: 'pages.parley.homeAnonymous', label: 'Parley `/`, anonymous', request: { path: '/' }, mustContain: 'href="/login"' },
        { key: 'pages.parley.postAnonymous', label: 'Parley `/posts/:id`, anonymous', request: { path: postPath }, mustContain: 'href="/login"' },
      ];
      return { url: fixture.server.url, pages, stop: () => fixture.cleanup() };
    } catch (err) {
      await fixture.cleanup();
      throw err;
    }
  },
};

/** One request before measuring: the page answers 200 and shows what it should. */
async function checkPage(baseUrl: string, page: PageCase): Promise<void> {
  const res = await fetch(`${baseUrl}${page.request.path}`, { headers: page.request.headers, redirect: 'manual' });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${page.label}: answered ${res.status} before measuring`);
  if (page.mustContain && !body.includes(page.mustContain)) {
    throw new Error(`${page.label}: the page does not contain ${JSON.stringify(page.mustContain)}`);
  }
}

interface Measured {
  page: PageCase;
  server: string;
  result: PageResult;
}

export async function pagesScenario(
  options: BenchOptions,
  progress: (line: string) => void,
  servers: PageServer[] = [helloWorld, parleyPages],
): Promise<ScenarioReport> {
  const measured: Measured[] = [];
  for (const pageServer of servers) {
    const site = await pageServer.start(progress);
    try {
      for (const page of site.pages) {
        await checkPage(site.url, page);
        const result = await measurePage(site.url, page.request, options.pages);
        progress(`${page.label}: ${formatNumber(result.requestsPerSecond)} req/s, p99 ${formatNumber(result.latencyP99)} ms`);
        measured.push({ page, server: pageServer.label, result });
      }
    } finally {
      await site.stop();
    }
  }

  const figures: Figure[] = measured.flatMap(({ page, result }) => [
    { key: `${page.key}.rps`, label: page.label, value: result.requestsPerSecond, unit: 'req/s', chart: 'requests' as const },
    { key: `${page.key}.p99`, label: `${page.label} p99`, value: result.latencyP99, unit: 'ms' },
  ]);
  const failing = measured.filter((m) => m.result.failures > 0);
  return {
    id: 'pages',
    title: 'Pages',
    method:
      `autocannon in the bench process, ${options.pages.connections} keep-alive connections, ${options.pages.seconds} s per page after ` +
      `${options.pages.warmupSeconds} s of warm-up; each server in a child process with \`NODE_ENV=production\`. ` +
      `Parley runs on the embedded FerretDB, seeded before measuring by its own code: ${PARLEY_CONTENT.posts} posts through the forum service ` +
      `(every tenth with 3 replies, the newest with ${PARLEY_CONTENT.busyReplies}), and ${PARLEY_CONTENT.conversations} conversations of ` +
      `${PARLEY_CONTENT.messagesPerConversation + 1} messages for the signed-in member, sent over Socket.IO. Signed-in pages send that ` +
      'member’s session cookie, and one request before measuring checks that the page answers 200 and shows the member’s name.',
    figures,
    tables: [
      {
        head: ['page', 'requests/s', 'p50 (ms)', 'p99 (ms)', 'requests', 'failed'],
        rows: measured.map(({ page, result }) => [
          page.label,
          formatNumber(result.requestsPerSecond),
          formatNumber(result.latencyP50),
          formatNumber(result.latencyP99),
          formatNumber(result.requests, 0),
          formatNumber(result.failures, 0),
        ]),
      },
    ],
    integrity: [],
    notes: failing.map((m) => `${m.page.label}: ${m.result.failures} requests failed (non-2xx or connection errors); its figure is not valid.`),
  };
}
