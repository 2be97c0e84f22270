// Pages under load, beside Express hello-world in the same run. Each server runs in a
// child process with NODE_ENV=production; each page is a path (and, if it needs one, a
// signed-in user's cookie) measured by the same function.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { measurePage, type PageRequest, type PageResult } from '../lib/http-load.ts';
import { projectRoot, type BenchOptions } from '../lib/options.ts';
import { startChildServer, type ChildServer } from '../lib/processes.ts';
import { formatNumber, type Figure, type ScenarioReport } from '../lib/report-model.ts';

export interface PageCase {
  /** Figure key, e.g. "pages.hello". */
  key: string;
  label: string;
  /** Seeds what the page shows (posts, users, messages) and says what to request. */
  prepare(server: ChildServer): Promise<PageRequest>;
}

export interface PageServer {
  label: string;
  start(): Promise<ChildServer & { cleanup?: () => Promise<void> }>;
  pages: PageCase[];
}

export const helloWorld: PageServer = {
  label: 'Express hello-world',
  start: () =>
    startChildServer({ name: 'hello', script: path.join(projectRoot, 'bench/servers/hello-server.ts'), env: { NODE_ENV: 'production' }, readyPath: '/' }),
  pages: [{ key: 'pages.hello', label: 'Express hello-world `/`', prepare: async () => ({ path: '/' }) }],
};

/** Parley as `npm start` runs it, on a fresh embedded database in a temporary directory. */
export async function startParley(): Promise<ChildServer & { cleanup: () => Promise<void> }> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-bench-app-'));
  const server = await startChildServer({
    name: 'parley',
    script: path.join(projectRoot, 'bench/servers/parley-server.ts'),
    env: {
      NODE_ENV: 'production',
      DATA_DIR: dataDir,
      DB_ENGINE: 'ferretdb',
      MONGODB_URI: '',
      SESSION_SECRET: crypto.randomBytes(24).toString('hex'),
      RATE_LIMITS: 'off',
      LOG_LEVEL: 'warn',
    },
    // 503 until the database is connected.
    readyPath: '/healthz',
    readyTimeoutMs: 120_000,
  });
  return {
    ...server,
    cleanup: async () => {
      await server.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

export const parleyPages: PageServer = {
  label: 'Parley',
  start: startParley,
  pages: [
    // Today's home page is the skeleton's (no posts yet): it shows the wiring works and
    // what a page costs with session, CSRF and helmet; the real figures come with the forum.
    { key: 'pages.parley.home', label: 'Parley `/` (skeleton: no posts yet), returning visitor', prepare: (server) => visitorWithSession(server.url, '/') },
    // autocannon keeps no cookies: every request is a first visit, which creates a session.
    { key: 'pages.parley.homeFirstVisit', label: 'Parley `/` (skeleton), first visit: no cookie', prepare: async () => ({ path: '/' }) },
  ],
};

/** A visitor who has been here before: the cookie of the session their first request made. */
async function visitorWithSession(baseUrl: string, pagePath: string): Promise<PageRequest> {
  const res = await fetch(`${baseUrl}${pagePath}`);
  await res.arrayBuffer();
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return { path: pagePath, headers: cookie ? { cookie } : {} };
}

interface Measured {
  page: PageCase;
  server: string;
  request: PageRequest;
  result: PageResult;
}

export async function pagesScenario(
  options: BenchOptions,
  progress: (line: string) => void,
  servers: PageServer[] = [helloWorld, parleyPages],
): Promise<ScenarioReport> {
  const measured: Measured[] = [];
  for (const pageServer of servers) {
    const server = await pageServer.start();
    try {
      for (const page of pageServer.pages) {
        const request = await page.prepare(server);
        const result = await measurePage(server.url, request, options.pages);
        progress(`${page.label}: ${formatNumber(result.requestsPerSecond)} req/s, p99 ${formatNumber(result.latencyP99)} ms`);
        measured.push({ page, server: pageServer.label, request, result });
      }
    } finally {
      await (server.cleanup ?? server.stop)();
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
      `${options.pages.warmupSeconds} s of warm-up; each server in a child process with \`NODE_ENV=production\`.`,
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
