// One search module for every text Parley indexes: the forum's posts and replies (scope
// "forum") and, for issue 12, each member's own messages (a scope per member). Writes
// go through a queue off the request path, batched so that a burst of texts costs one
// update per distinct term rather than one per term per text; reads are `_id` lookups
// only (see model.ts for the shape).
import type { KeyLock } from '../db/redis-lock.ts';
import { createSerialWrites } from '../db/serial-writes.ts';
import { isDuplicateKey } from '../db/errors.ts';
import type { Logger } from '../log.ts';
import { highlight, snippet } from './highlight.ts';
import { BUCKET_SIZE, CURSOR, REF, SearchDocModel, TermBucketModel, TermHeadModel, bucketId, docId, headId, indexedText, posting, postingRef, type SearchDoc, type TermHead } from './model.ts';
import { highlightTerms, indexTerms, queryTerms } from './tokenize.ts';

export interface IndexedText {
  /** "<kind>:<id>", e.g. "p:<post id>", "r:<reply id>"; letters, digits, "_" and "-" in the id. */
  ref: string;
  title?: string;
  body: string;
  author: string;
  /** Where a result leads: the post, or the exact reply. */
  href: string;
  /** When it was written: orders results, newest first. */
  at: Date;
}

export interface SearchResult {
  ref: string;
  kind: string;
  /** Escaped HTML with the query's words in <mark>. */
  titleHtml: string;
  snippetHtml: string;
  author: string;
  href: string;
  at: Date;
}

export interface SearchPage {
  results: SearchResult[];
  /** Pass as `before` for the next (older) page; absent on the last page. */
  next?: string;
  /** The query had no words to look for. */
  empty: boolean;
}

export interface SearchIndex {
  /** Indexes a new or edited text (replacing what was indexed under its ref). Resolves once written. */
  index(scope: string, text: IndexedText): Promise<void>;
  /** Removes a text from results. */
  unindex(scope: string, ref: string): Promise<void>;
  search(scope: string, query: string, options?: { before?: string; limit?: number }): Promise<SearchPage>;
  /** Resolves when everything queued so far is written (tests, shutdown). */
  idle(): Promise<void>;
}

type Job = { kind: 'index'; scope: string; text: IndexedText } | { kind: 'unindex'; scope: string; ref: string };
type Op = Job & { done: () => void };

/** Texts taken from the queue at once: their postings for one term go in one update. */
const BATCH_TEXTS = 64;
/** Posting updates in flight at once (the engine has one writer; this only hides round trips). */
const WRITE_CONCURRENCY = 4;
/** Candidates looked at per page before giving up on this page (a page may then come back short, with a link to go on). */
const MAX_CANDIDATES = 2000;
/** Other query terms with at most this many postings are loaded whole and checked in memory. */
const SET_CHECK_MAX = BUCKET_SIZE * 16;

async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function readBucket(scope: string, term: string, k: number): Promise<string[]> {
  const read = TermBucketModel.findById(bucketId(scope, term, k))
    .lean()
    .exec()
    .then((bucket) => bucket?.refs ?? []);
  // Read ahead and maybe never awaited (the page filled first): a failure then is nobody's.
  read.catch(() => undefined);
  return read;
}

/**
 * Newest postings first, from a term's head and then its sealed buckets, loaded as
 * reached (the next one is asked for while this one is walked).
 */
async function* postings(scope: string, term: string, head: TermHead, before: string | undefined): AsyncGenerator<string> {
  const older = (entry: string) => before === undefined || entry < before;
  for (let i = head.recent.length - 1; i >= 0; i--) if (older(head.recent[i]!)) yield head.recent[i]!;
  // Buckets wholly newer than the cursor are skipped unread.
  const wanted: number[] = [];
  for (let k = (head.sealed ?? 0) - 1; k >= 0; k--) {
    const min = head.mins[k];
    if (before === undefined || min === undefined || min < before) wanted.push(k);
  }
  let next = wanted.length > 0 ? readBucket(scope, term, wanted[0]!) : undefined;
  for (let w = 0; w < wanted.length; w++) {
    const refs = await next!;
    next = w + 1 < wanted.length ? readBucket(scope, term, wanted[w + 1]!) : undefined;
    for (let i = refs.length - 1; i >= 0; i--) if (older(refs[i]!)) yield refs[i]!;
  }
}

/** A whole (short) posting list as a set of refs, its buckets read at once. */
async function allPostings(scope: string, term: string, head: TermHead): Promise<Set<string>> {
  const buckets = await Promise.all(Array.from({ length: head.sealed ?? 0 }, (_v, k) => readBucket(scope, term, k)));
  return new Set([...head.recent, ...buckets.flat()].map(postingRef));
}

export function createSearchIndex(deps: {
  log: Logger;
  writeLock?: KeyLock;
  /**
   * Writes to one document never overlap (FerretDB: queued here, and across processes
   * by `writeLock`): a write then filters on `_id` alone, the only filter FerretDB 1.x
   * looks up by index (`{ _id, sealed }` scans every term; 34 ms at 100,000 documents).
   * MongoDB has no such queue across processes, so there a write keeps its condition.
   */
  exclusiveWrites?: boolean;
}): SearchIndex {
  const writes = createSerialWrites({ lock: deps.writeLock });
  const queue: Op[] = [];
  let running: Promise<void> | null = null;

  /** Appends refs to a term's list; seals the head into a bucket once it is full. */
  async function addPostings(scope: string, term: string, refs: string[]): Promise<void> {
    const id = headId(scope, term);
    await writes.run(`search:${id}`, async () => {
      const push = () =>
        TermHeadModel.findOneAndUpdate({ _id: id }, { $push: { recent: { $each: refs } }, $inc: { n: refs.length } }, { upsert: true, returnDocument: 'after' })
          .lean<TermHead>()
          .exec();
      let head: TermHead;
      try {
        head = await push();
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        head = await push();
      }
      if (head.recent.length < BUCKET_SIZE) return;
      const k = head.sealed ?? 0;
      const sealing = head.recent;
      const min = sealing.reduce((a, b) => (b < a ? b : a));
      // The bucket first: a crash in between leaves postings twice (harmless), never none.
      await TermBucketModel.replaceOne({ _id: bucketId(scope, term, k) }, { refs: sealing }, { upsert: true }).exec();
      const guard = deps.exclusiveWrites ? {} : { sealed: k };
      await TermHeadModel.updateOne({ _id: id, ...guard }, { $pullAll: { recent: sealing }, $inc: { sealed: 1 }, $push: { mins: min } }).exec();
    });
  }

  async function runBatch(ops: Op[]): Promise<void> {
    // scope|term → postings to append, in order.
    const added = new Map<string, { scope: string; term: string; refs: string[] }>();
    for (const op of ops) {
      const id = docId(op.scope, op.kind === 'index' ? op.text.ref : op.ref);
      if (op.kind === 'unindex') {
        await SearchDocModel.deleteOne({ _id: id }).exec();
        continue;
      }
      const { text } = op;
      const previous = await SearchDocModel.findById(id, { title: 1, body: 1 }).lean<Pick<SearchDoc, 'title' | 'body'>>().exec();
      const terms = indexTerms(indexedText(text));
      await SearchDocModel.replaceOne({ _id: id }, { title: text.title ?? '', body: text.body, author: text.author, href: text.href, at: text.at }, { upsert: true }).exec();
      const had = new Set(previous ? indexTerms(indexedText(previous)) : []);
      for (const term of terms) {
        if (had.has(term)) continue;
        const key = headId(op.scope, term);
        const entry = added.get(key) ?? { scope: op.scope, term, refs: [] };
        entry.refs.push(posting(text.ref, text.at));
        added.set(key, entry);
      }
    }
    await inParallel([...added.values()], WRITE_CONCURRENCY, (e) => addPostings(e.scope, e.term, e.refs));
  }

  function drain(): Promise<void> {
    running ??= (async () => {
      while (queue.length > 0) {
        const ops = queue.splice(0, BATCH_TEXTS);
        try {
          await runBatch(ops);
        } catch (err) {
          deps.log.error({ err, texts: ops.length }, 'search index: a batch was not written');
        }
        for (const op of ops) op.done();
      }
      running = null;
    })();
    return running;
  }

  function enqueue(op: Job): Promise<void> {
    return new Promise<void>((resolve) => {
      queue.push({ ...op, done: resolve });
      void drain();
    });
  }

  return {
    index(scope, text) {
      if (!REF.test(text.ref)) return Promise.reject(new Error(`search index: bad ref ${text.ref}`));
      return enqueue({ kind: 'index', scope, text });
    },

    unindex(scope, ref) {
      return enqueue({ kind: 'unindex', scope, ref });
    },

    async idle() {
      while (running) await running;
    },

    async search(scope, query, options = {}) {
      const limit = Math.max(1, Math.min(50, options.limit ?? 20));
      const before = options.before !== undefined && CURSOR.test(options.before) ? options.before : undefined;
      const terms = queryTerms(query);
      if (terms.length === 0) return { results: [], empty: true };
      const heads = await Promise.all(terms.map((term) => TermHeadModel.findById(headId(scope, term)).lean<TermHead>().exec()));
      if (heads.some((head) => !head)) return { results: [], empty: false };
      const byRarity = terms.map((term, i) => ({ term, head: heads[i]! })).sort((a, b) => a.head.n - b.head.n);
      const [rarest, ...others] = byRarity;
      // Small lists are cheaper to check in memory than candidates one by one.
      const sets = await Promise.all(others.filter((o) => o.head.n <= SET_CHECK_MAX).map((o) => allPostings(scope, o.term, o.head)));
      const marks = highlightTerms(query);

      // Each result with its posting: the last one shown is where the next page starts.
      const found: { result: SearchResult; entry: string }[] = [];
      const seen = new Set<string>();
      let batch: string[] = [];
      let examined = 0;
      // Read as many candidates at once as could still fill the page; when few of them
      // match (a phrase of common characters), read more at once each round.
      let rounds = 0;
      // A candidate of a one-word query always matches; one of several words often does not.
      const firstRound = others.length > 0 ? 2 : 0;
      let last: string | undefined;
      let more = false;

      const check = async (entries: string[]) => {
        const refs = entries.map(postingRef);
        const docs = await Promise.all(refs.map((ref) => SearchDocModel.findById(docId(scope, ref)).lean<SearchDoc>().exec()));
        refs.forEach((ref, i) => {
          const doc = docs[i];
          if (!doc || found.length > limit) return;
          const has = new Set(indexTerms(indexedText(doc)));
          if (!terms.every((t) => has.has(t))) return;
          const result = {
            ref,
            kind: ref.slice(0, ref.indexOf(':')),
            titleHtml: highlight(doc.title, marks),
            snippetHtml: snippet(doc.body, marks),
            author: doc.author,
            href: doc.href,
            at: doc.at,
          };
          found.push({ result, entry: entries[i]! });
        });
      };

      for await (const entry of postings(scope, rarest!.term, rarest!.head, before)) {
        const ref = postingRef(entry);
        if (seen.has(ref)) continue;
        seen.add(ref);
        if (!sets.every((set) => set.has(ref))) continue;
        batch.push(entry);
        examined++;
        if (batch.length >= Math.min(256, (limit + 1 - found.length) * 2 ** (rounds + firstRound))) {
          rounds++;
          await check(batch);
          last = batch.at(-1);
          batch = [];
          if (found.length > limit) break;
        }
        if (examined >= MAX_CANDIDATES) {
          more = true;
          break;
        }
      }
      if (batch.length > 0 && found.length <= limit) {
        await check(batch);
        last = batch.at(-1);
      }
      if (found.length > limit) {
        found.length = limit;
        return { results: found.map((f) => f.result), next: found.at(-1)!.entry, empty: false };
      }
      return { results: found.map((f) => f.result), next: more ? last : undefined, empty: false };
    },
  };
}
