// Forum search at a million texts on the embedded engine: Parley's inverted index in
// documents read by `_id` (src/search), against MiniSearch (a well-kept in-memory
// library) on the same corpus, with the same tokenizer, at a small and a large size.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import MiniSearch from 'minisearch';
import mongoose from 'mongoose';
import { startEmbeddedDatabase, withDatabaseName } from '../../src/db/embedded.ts';
import { createLogger } from '../../src/log.ts';
import { loadConfig } from '../../src/config.ts';
import { createBulkLoader } from '../../src/search/bulk-load.ts';
import { createSearchIndex, type IndexedText } from '../../src/search/search-index.ts';
import { indexTerms, queryTerms } from '../../src/search/tokenize.ts';
import type { BenchOptions } from '../lib/options.ts';
import { formatNumber, formatSeconds, type Figure, type ScenarioReport } from '../lib/report-model.ts';
import { searchCorpus, type Corpus } from '../lib/search-corpus.ts';
import { summarize, type LatencySummary } from '../lib/stats.ts';

interface QueryKind {
  key: string;
  label: string;
  make: (corpus: Corpus, i: number) => string;
}

/** Each kind asks several different queries of its shape. */
const QUERY_KINDS: QueryKind[] = [
  { key: 'en-rare', label: 'English, a rare word', make: (c, i) => c.englishWord(5_000 + i * 97) },
  { key: 'en-common', label: 'English, a very common word', make: (c, i) => c.englishWord(i % 5) },
  { key: 'en-two', label: 'English, a common and a middling word', make: (c, i) => `${c.englishWord(i % 10)} ${c.englishWord(200 + i * 13)}` },
  { key: 'zh-word', label: 'Chinese, a two-character word', make: (c, i) => c.chineseWord(50 + i * 31) },
  { key: 'zh-phrase', label: 'Chinese, two words side by side', make: (c, i) => c.chineseWord(i % 20) + c.chineseWord(100 + i * 7) },
  { key: 'zh-char', label: 'Chinese, a single character', make: (c, i) => c.chineseChar(10 + i) },
  { key: 'none', label: 'a word no text has', make: (_c, i) => `zzqx${i}` },
];

const PAGE = 20;

async function timeQueries(run: (q: string) => Promise<number>, corpus: Corpus, perKind: number, progress: (line: string) => void): Promise<Map<string, { latency: LatencySummary; hits: number }>> {
  const out = new Map<string, { latency: LatencySummary; hits: number }>();
  for (const kind of QUERY_KINDS) {
    const times: number[] = [];
    let hits = 0;
    for (let i = 0; i < perKind; i++) {
      const q = kind.make(corpus, i);
      // Once untimed: the engine's own page cache is warm for a query asked before.
      await run(q);
      const started = performance.now();
      hits += await run(q);
      times.push(performance.now() - started);
    }
    out.set(kind.key, { latency: summarize(times), hits: hits / perKind });
    // Said as it is measured: a run cut short by its deadline still leaves its figures in the log.
    const l = out.get(kind.key)!.latency;
    progress(`search:   ${kind.key}: p50 ${formatNumber(l.p50)} ms, p90 ${formatNumber(l.p90)} ms, max ${formatNumber(l.max)} ms, ${formatNumber(hits / perKind, 1)} results`);
  }
  return out;
}

function miniSearchOf(): MiniSearch {
  return new MiniSearch({
    fields: ['text'],
    idField: 'ref',
    tokenize: (text, field) => (field ? indexTerms(text) : queryTerms(text)),
    processTerm: (term) => term,
    searchOptions: { combineWith: 'AND', prefix: false, fuzzy: false },
  });
}

export async function searchScenario(options: BenchOptions, progress: (line: string) => void): Promise<ScenarioReport> {
  const o = options.search;
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-bench-search-'));
  const quiet = { info: () => undefined, warn: (m: unknown) => progress(String(m)), error: (m: unknown) => progress(String(m)) };
  const database = await startEmbeddedDatabase({ engine: 'ferretdb', dataDir, log: quiet as never });
  const log = createLogger(loadConfig({ LOG_LEVEL: 'silent' }));
  await mongoose.connect(withDatabaseName(database.uri, `bench_search_${crypto.randomBytes(3).toString('hex')}`));
  const index = createSearchIndex({ log, exclusiveWrites: true });
  // A middle size where MiniSearch still fits in memory, when it is not one of the two.
  const sizes = [...new Set([o.smallTexts, Math.min(o.miniSearchMaxTexts, o.largeTexts), o.largeTexts])].filter((n) => n >= o.smallTexts).sort((a, b) => a - b);
  const scopeOf = (size: number) => `bench-${size}`;
  const measured: { size: number; parley: Map<string, { latency: LatencySummary; hits: number }>; mini?: Map<string, { latency: LatencySummary; hits: number }>; miniBuildMs?: number; miniHeapMiB?: number }[] = [];
  let loadMs = 0;
  let loaded = { texts: 0, terms: 0, buckets: 0 };
  let incremental = { perSecond: 0, ms: 0 };
  try {
    for (const [i, size] of sizes.entries()) {
      const scope = scopeOf(size);
      const corpus = searchCorpus();
      const loader = createBulkLoader(scope, { batchSize: 5_000 });
      const started = performance.now();
      const mini = size <= o.miniSearchMaxTexts ? miniSearchOf() : undefined;
      for (let done = 0; done < size; ) {
        const batch: IndexedText[] = [];
        for (let k = 0; k < 10_000 && done < size; k++, done++) batch.push({ ...corpus.next(), author: 'bench', href: '/' });
        await loader.add(batch);
        if (done % 100_000 === 0) progress(`search: ${formatNumber(done, 0)} of ${formatNumber(size, 0)} texts loaded`);
      }
      const result = await loader.finish();
      if (i === sizes.length - 1) {
        loadMs = performance.now() - started;
        loaded = result;
      }
      const queries = searchCorpus();
      progress(`search: ${formatNumber(size, 0)} texts loaded in ${formatSeconds(performance.now() - started)} (${formatNumber(result.terms, 0)} terms, ${formatNumber(result.buckets, 0)} buckets); Parley's index:`);
      const parley = await timeQueries(async (q) => (await index.search(scope, q, { limit: PAGE })).results.length, queries, o.queriesPerKind, progress);
      progress(`search: Parley's index at ${formatNumber(size, 0)} texts measured`);
      const entry: (typeof measured)[number] = { size, parley };
      if (mini) {
        // The same texts again, into MiniSearch (the corpus is deterministic).
        const again = searchCorpus();
        global.gc?.();
        const heapBefore = process.memoryUsage().heapUsed;
        const builtFrom = performance.now();
        for (let k = 0; k < size; k++) {
          const t = again.next();
          mini.add({ ref: t.ref, text: `${t.title}\n${t.body}` });
        }
        entry.miniBuildMs = performance.now() - builtFrom;
        global.gc?.();
        entry.miniHeapMiB = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
        progress(`search: MiniSearch built in ${formatSeconds(entry.miniBuildMs)}, heap ${formatNumber(entry.miniHeapMiB, 0)} MiB:`);
        // Newest first, like Parley's pages: every match sorted by its ObjectId, then one page.
        entry.mini = await timeQueries(
          async (q) => mini.search(q).sort((a, b) => (a.id < b.id ? 1 : -1)).slice(0, PAGE).length,
          searchCorpus(),
          o.queriesPerKind,
          progress,
        );
        progress(`search: MiniSearch at ${formatNumber(size, 0)} texts measured`);
      }
      measured.push(entry);
    }
    // New texts through the live queue, as posts arrive: postings appended by update.
    const corpus = searchCorpus(99);
    const started = performance.now();
    await Promise.all(Array.from({ length: o.incrementalTexts }, () => index.index(scopeOf(o.largeTexts), { ...corpus.next(), author: 'bench', href: '/' })));
    const ms = performance.now() - started;
    incremental = { ms, perSecond: (o.incrementalTexts / ms) * 1000 };
    progress(`search: ${o.incrementalTexts} texts through the live queue in ${formatSeconds(ms)}`);
  } finally {
    await index.idle();
    await mongoose.disconnect();
    await database.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  }

  const small = measured[0];
  const large = measured.at(-1);
  const figures: Figure[] = [];
  const rows: string[][] = [];
  for (const kind of QUERY_KINDS) {
    const s = small!.parley.get(kind.key)!;
    const l = large!.parley.get(kind.key)!;
    figures.push(
      { key: `parley.search.${kind.key}.large.p90`, label: `Search, ${kind.label}, ${formatNumber(large!.size, 0)} texts, p90`, value: l.latency.p90, unit: 'ms' },
      { key: `parley.search.${kind.key}.ratio`, label: `Search, ${kind.label}: p50 at ${formatNumber(large!.size, 0)} ÷ at ${formatNumber(small!.size, 0)}`, value: l.latency.p50 / s.latency.p50, unit: '×' },
    );
    for (const m of measured) {
      const p = m.parley.get(kind.key)!;
      const mini = m.mini?.get(kind.key);
      rows.push([
        kind.label,
        formatNumber(m.size, 0),
        formatNumber(p.latency.p50),
        formatNumber(p.latency.p90),
        formatNumber(p.latency.max),
        formatNumber(p.hits, 1),
        mini ? formatNumber(mini.latency.p50) : '—',
        mini ? formatNumber(mini.latency.p90) : '—',
      ]);
    }
  }
  const miniRows = measured.filter((m) => m.mini).map((m) => [formatNumber(m.size, 0), formatSeconds(m.miniBuildMs!), formatNumber(m.miniHeapMiB!, 0)]);
  figures.push(
    { key: 'parley.search.load.rate', label: 'Bulk index build (inserts only), texts per second', value: (loaded.texts / loadMs) * 1000, unit: 'texts/s' },
    { key: 'parley.search.incremental.rate', label: 'Live indexing through the queue (updates), texts per second', value: incremental.perSecond, unit: 'texts/s' },
  );
  return {
    id: 'search',
    title: 'Search',
    method:
      `A fresh embedded FerretDB. A deterministic corpus (half English, 30 % Chinese, 20 % both; Zipf-distributed words) bulk-loaded into Parley's index ` +
      `(src/search/bulk-load.ts) at ${sizes.map((n) => formatNumber(n, 0)).join(' and ')} texts, in separate scopes of one database. ` +
      `${o.queriesPerKind} different queries of each kind, each asked once untimed and once timed, first page of ${PAGE} results newest first, through the same ` +
      `code GET /search calls. MiniSearch (in memory, same tokenizer, AND of all terms, matches sorted newest first) is built from the same texts up to ` +
      `${formatNumber(o.miniSearchMaxTexts, 0)} texts. Then ${o.incrementalTexts} new texts through the live indexing queue.`,
    figures,
    tables: [
      { caption: 'First page of results (ms)', head: ['query', 'texts', 'Parley p50', 'Parley p90', 'Parley max', 'results', 'MiniSearch p50', 'MiniSearch p90'], rows },
      { caption: 'MiniSearch: building the index in memory', head: ['texts', 'build', 'heap (MiB)'], rows: miniRows },
      {
        caption: `Parley's index at ${formatNumber(loaded.texts, 0)} texts`,
        head: ['terms', 'sealed buckets', 'bulk build', 'live indexing'],
        rows: [[formatNumber(loaded.terms, 0), formatNumber(loaded.buckets, 0), formatSeconds(loadMs), `${formatNumber(incremental.perSecond)} texts/s`]],
      },
    ],
    integrity: [],
    notes: [],
  };
}
