// Builds a scope's index from many texts at once with inserts only (FerretDB inserts
// ~25,000 small documents a second, updates ~1,000): for a first index of an existing
// forum, and for the benchmark's million texts. The scope must be empty, and texts come
// oldest first, as the live index would have received them.
import { BUCKET_SIZE, SearchDocModel, TermBucketModel, TermHeadModel, bucketId, docId, headId, indexedText, posting } from './model.ts';
import type { IndexedText } from './search-index.ts';
import { indexTerms } from './tokenize.ts';

interface TermState {
  n: number;
  sealed: number;
  mins: string[];
  recent: string[];
}

export interface BulkLoader {
  add(texts: IndexedText[]): Promise<void>;
  /** Writes every term's head; the index answers queries from then on. */
  finish(): Promise<{ texts: number; terms: number; buckets: number }>;
}

export function createBulkLoader(scope: string, options: { batchSize?: number } = {}): BulkLoader {
  const batchSize = options.batchSize ?? 10_000;
  const terms = new Map<string, TermState>();
  let bucketsOut: { _id: string; refs: string[] }[] = [];
  let texts = 0;
  let buckets = 0;

  async function insert(collection: typeof SearchDocModel.collection, docs: object[]): Promise<void> {
    for (let i = 0; i < docs.length; i += batchSize) await collection.insertMany(docs.slice(i, i + batchSize) as never[], { ordered: false });
  }

  async function flushBuckets(force: boolean): Promise<void> {
    if (bucketsOut.length === 0 || (!force && bucketsOut.length < batchSize / 10)) return;
    const out = bucketsOut;
    bucketsOut = [];
    buckets += out.length;
    await insert(TermBucketModel.collection, out);
  }

  return {
    async add(batch) {
      await insert(
        SearchDocModel.collection,
        batch.map((t) => ({ _id: docId(scope, t.ref), title: t.title ?? '', body: t.body, author: t.author, href: t.href, at: t.at })),
      );
      for (const text of batch) {
        texts++;
        const entry = posting(text.ref, text.at);
        for (const term of indexTerms(indexedText(text))) {
          let state = terms.get(term);
          if (!state) terms.set(term, (state = { n: 0, sealed: 0, mins: [], recent: [] }));
          state.n++;
          state.recent.push(entry);
          if (state.recent.length >= BUCKET_SIZE) {
            bucketsOut.push({ _id: bucketId(scope, term, state.sealed), refs: state.recent });
            state.mins.push(state.recent.reduce((a, b) => (b < a ? b : a)));
            state.sealed++;
            state.recent = [];
          }
        }
      }
      await flushBuckets(false);
    },

    async finish() {
      await flushBuckets(true);
      const heads = [...terms].map(([term, s]) => ({ _id: headId(scope, term), n: s.n, recent: s.recent, sealed: s.sealed, mins: s.mins }));
      await insert(TermHeadModel.collection, heads);
      return { texts, terms: terms.size, buckets };
    },
  };
}
