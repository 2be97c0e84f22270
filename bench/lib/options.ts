// What a bench run is told from outside. Every knob has a bound, so a run always stops
// by itself: durations, counts and the whole run's deadline.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCENARIO_IDS = ['relay', 'messaging', 'memory', 'database', 'pages', 'growth', 'groups', 'search'] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

export interface BenchOptions {
  /** Seconds instead of minutes: a smoke run for tests. */
  quick: boolean;
  only: ScenarioId[];
  /** Where PERFORMANCE.md and performance.svg are written. */
  outDir: string;
  /** The whole run is abandoned (children stopped, exit code 1) after this long. */
  deadlineMs: number;
  /** Before each scenario, wait at most this long for other processes to leave the CPU mostly idle. */
  quietWaitMs: number;
  relay: {
    /** Closed loop: one run per entry, each with that many pairs of clients. */
    capacityPairs: number[];
    capacityWarmupMs: number;
    capacityMs: number;
    latencyRate: number;
    latencyPairs: number;
    latencyWarmupMs: number;
    latencyMs: number;
    /** Characters of each message's content. */
    contentLength: number;
  };
  memory: { sockets: number; rounds: number };
  database: { warmupMs: number; measureMs: number; concurrency: number; batchSize: number; primitiveMs: number };
  pages: { connections: number; warmupSeconds: number; seconds: number };
  growth: {
    /** Stored messages at the first measurement, then at the second, on the same database. */
    smallMessages: number;
    largeMessages: number;
    /** Members the large size is spread over, and messages per conversation among them. */
    users: number;
    perConversation: number;
    /** The measured pair's conversation: several history pages at both sizes. */
    historyMessages: number;
    /** Conversations on the measured member's messages page. */
    viewerConversations: number;
    /** The crowded member's conversations: one inbox entry each. */
    crowdedConversations: number;
    /** Timed socket sends to each of the crowded member and one with few conversations. */
    sends: number;
    /** Messages per insertMany while seeding. */
    batchSize: number;
    connections: number;
    warmupSeconds: number;
    seconds: number;
  };
  search: {
    smallTexts: number;
    largeTexts: number;
    /** MiniSearch is built in memory only up to this many texts. */
    miniSearchMaxTexts: number;
    queriesPerKind: number;
    incrementalTexts: number;
  };
}

/**
 * The full run's safety net, well above its usual length (≈ 11 min on 2 cores), so a
 * slow machine still finishes while a hung scenario cannot hold the run for good.
 */
export const DEFAULT_DEADLINE_S = 1200;

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${name}=${raw}: expected a number from ${min} to ${max}`);
  }
  return value;
}

function scenarioList(raw: string | undefined): ScenarioId[] {
  if (!raw) return [...SCENARIO_IDS];
  const wanted = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((s) => !(SCENARIO_IDS as readonly string[]).includes(s));
  if (unknown.length) throw new Error(`BENCH_ONLY: unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIO_IDS.join(', ')}`);
  return SCENARIO_IDS.filter((id) => wanted.includes(id));
}

/**
 * BENCH_QUICK=1 short smoke run; BENCH_ONLY=relay,messaging,memory,database,pages,growth,groups,search a subset;
 * BENCH_OUT a directory for the report (default docs/); BENCH_DEADLINE_S the whole run's limit;
 * BENCH_SCALE multiplies every measuring window (0.1 … 5); BENCH_QUIET_WAIT_S how long each
 * scenario may wait for a quiet machine (default 30, 0 in quick mode); BENCH_GROWTH_MESSAGES the
 * growth scenario's large size (default 1 M) and BENCH_GROWTH_CONVERSATIONS its crowded inbox (10 k);
 * BENCH_SEARCH_TEXTS the search scenario's large size (default 1 M), BENCH_SEARCH_MINISEARCH_TEXTS up to which size MiniSearch is built too;
 * BENCH_CHILD_NODE_ARGS extra node flags for the measured servers (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
export function benchOptions(env: NodeJS.ProcessEnv = process.env, overrides: Partial<BenchOptions> = {}): BenchOptions {
  const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const scale = number(env, 'BENCH_SCALE', 1, 0.1, 5);
  const ms = (full: number, short: number) => Math.round((quick ? short : full) * scale);
  const options: BenchOptions = {
    quick,
    only: scenarioList(env.BENCH_ONLY),
    outDir: path.resolve(env.BENCH_OUT || path.join(projectRoot, 'docs')),
    deadlineMs: number(env, 'BENCH_DEADLINE_S', quick ? 120 : DEFAULT_DEADLINE_S, 10, 3600) * 1000,
    quietWaitMs: number(env, 'BENCH_QUIET_WAIT_S', quick ? 0 : 30, 0, 600) * 1000,
    relay: {
      capacityPairs: quick ? [8] : [8, 32, 128],
      capacityWarmupMs: ms(2000, 300),
      capacityMs: ms(8000, 1000),
      latencyRate: 300,
      latencyPairs: quick ? 16 : 50,
      latencyWarmupMs: ms(2000, 300),
      latencyMs: ms(15_000, 1000),
      contentLength: 80,
    },
    memory: { sockets: quick ? 100 : 1000, rounds: quick ? 1 : 5 },
    database: { warmupMs: ms(1000, 200), measureMs: ms(8000, 800), concurrency: 32, batchSize: 50, primitiveMs: ms(2000, 200) },
    pages: { connections: 16, warmupSeconds: quick ? 0.5 : 2, seconds: Math.max(1, Math.round((quick ? 1 : 10) * scale)) },
    growth: {
      smallMessages: quick ? 2_000 : 10_000,
      largeMessages: number(env, 'BENCH_GROWTH_MESSAGES', quick ? 20_000 : 1_000_000, 20_000, 2_000_000),
      users: quick ? 100 : 1_000,
      perConversation: quick ? 50 : 100,
      historyMessages: quick ? 150 : 500,
      viewerConversations: quick ? 5 : 20,
      crowdedConversations: number(env, 'BENCH_GROWTH_CONVERSATIONS', quick ? 1_000 : 10_000, 100, 20_000),
      sends: quick ? 10 : 40,
      batchSize: 20_000,
      connections: 16,
      warmupSeconds: quick ? 0.5 : 2,
      seconds: Math.max(1, Math.round((quick ? 1 : 8) * scale)),
    },
    search: {
      smallTexts: quick ? 2_000 : 10_000,
      largeTexts: number(env, 'BENCH_SEARCH_TEXTS', quick ? 20_000 : 1_000_000, 10_000, 2_000_000),
      miniSearchMaxTexts: number(env, 'BENCH_SEARCH_MINISEARCH_TEXTS', quick ? 20_000 : 100_000, 0, 2_000_000),
      queriesPerKind: quick ? 3 : 20,
      incrementalTexts: quick ? 50 : 200,
    },
  };
  return { ...options, ...overrides };
}
