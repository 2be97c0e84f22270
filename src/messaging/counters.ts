// The counters of a conversation: its seq, how many messages it holds, how many each
// member sent, and how many of those they received each member has read. One owner
// answers for them, so a batch takes a range of seqs and settles its counts without a
// database write per message:
//
// - one process (no REDIS_URL): this process, in memory, loaded from the conversation
//   document the first time the conversation is touched;
// - several processes: Redis, one hash per conversation. HINCRBY hands each batch a
//   range of seqs in one round trip, and a Lua script settles a batch's counts once per
//   batch id, so a repair that settles the same batch again after a crash changes
//   nothing. Seqs stay ordered per conversation across processes (a seq is only ever
//   handed out once); two processes' batches may commit in either order, which paging
//   (by seq) and the counts (sums) do not mind.
//
// What the owner answers is written to the database behind the batch (views.ts) as
// absolute values with `$max`: replaying a write, or writes crossing, cannot count twice.
import type { Redis } from 'ioredis';
import { LockUnavailableError } from '../db/redis-lock.ts';
import { entryKey, type ConversationDoc, ConversationModel } from './models.ts';

export interface ConversationCounts {
  /** Highest seq accounted for (stored, or taken by a message that turned out a duplicate). */
  seq: number;
  /** Seq of the newest stored message. */
  last: number;
  n: number;
  /** By entryKey(member). */
  sent: Record<string, number>;
  readN: Record<string, number>;
}

export interface MarkReadResult {
  changed: boolean;
  /** Messages the reader received here and has now read (absolute). */
  readN: number;
  last: number;
}

export interface ConversationCounters {
  /** Hands out `count` consecutive seqs; returns the first. */
  reserve(conv: string, count: number): Promise<number>;
  /**
   * Adds what a batch stored in `conv` (messages per sender) once per `batchId`, and
   * accounts for every seq up to `to`. Returns the counts after it. `onStart`: a repair
   * before this process handed out any seq, its counts fresh from the database; in
   * memory, a batch whose seqs the database accounts for already is then not added again.
   */
  settle(batchId: string, conv: string, stored: { from: string; seq: number }[], to: number, options?: { onStart?: boolean }): Promise<ConversationCounts>;
  /**
   * The reader has seen the conversation up to seq `upTo` (undefined: all of it). Unless
   * a newer message is stored that they have not seen, everything they received counts
   * read from now on. Decided by the owner in one step, so a message stored meanwhile is
   * never counted read by a reader who did not see it.
   */
  markRead(conv: string, reader: string, upTo: number | undefined): Promise<MarkReadResult>;
  /** The counts now (for answers), loading them if needed. */
  current(conv: string): Promise<ConversationCounts>;
  /** Forgets what this process holds of a conversation (repair reloads it from the database). */
  forget(conv: string): void;
}

export function emptyCounts(): ConversationCounts {
  return { seq: 0, last: 0, n: 0, sent: {}, readN: {} };
}

export function countsOf(doc: ConversationDoc | null): ConversationCounts {
  if (!doc) return emptyCounts();
  return { seq: doc.seq ?? 0, last: doc.last ?? doc.seq ?? 0, n: doc.n ?? 0, sent: { ...(doc.sent ?? {}) }, readN: { ...(doc.readN ?? {}) } };
}

export function received(counts: ConversationCounts, member: string): number {
  return counts.n - (counts.sent[entryKey(member)] ?? 0);
}

async function loadCounts(conv: string): Promise<ConversationCounts> {
  return countsOf(await ConversationModel.findById(conv).lean<ConversationDoc>().exec());
}

/** One process owns every conversation: the counts live in memory. */
export function createMemoryCounters(): ConversationCounters {
  const loaded = new Map<string, Promise<ConversationCounts>>();
  /** Batch ids settled per conversation, so a repair settling again counts nothing twice. */
  const settled = new Map<string, Set<string>>();

  function state(conv: string): Promise<ConversationCounts> {
    let counts = loaded.get(conv);
    if (!counts) {
      counts = loadCounts(conv);
      loaded.set(conv, counts);
      counts.catch(() => loaded.delete(conv));
    }
    return counts;
  }

  return {
    async reserve(conv, count) {
      const counts = await state(conv);
      const first = counts.seq + 1;
      counts.seq += count;
      return first;
    },
    async settle(batchId, conv, stored, to, options = {}) {
      const counts = await state(conv);
      const done = settled.get(conv) ?? new Set<string>();
      // The views write the counts and `seq` in one update: a seq the document accounts
      // for was counted with it.
      const inDatabase = options.onStart === true && counts.seq >= to;
      if (!done.has(batchId) && !inDatabase) {
        done.add(batchId);
        settled.set(conv, done);
        // Bounded: only a batch repaired within the last few is ever settled twice.
        if (done.size > 64) done.delete(done.values().next().value!);
        for (const m of stored) {
          counts.n += 1;
          const key = entryKey(m.from);
          counts.sent[key] = (counts.sent[key] ?? 0) + 1;
          counts.last = Math.max(counts.last, m.seq);
        }
        counts.seq = Math.max(counts.seq, to);
      }
      return structuredClone(counts);
    },
    async markRead(conv, reader, upTo) {
      const counts = await state(conv);
      const key = entryKey(reader);
      const before = counts.readN[key] ?? 0;
      if (upTo !== undefined && upTo < counts.last) return { changed: false, readN: before, last: counts.last };
      const now = received(counts, reader);
      if (now <= before) return { changed: false, readN: before, last: counts.last };
      counts.readN[key] = now;
      return { changed: true, readN: now, last: counts.last };
    },
    async current(conv) {
      return structuredClone(await state(conv));
    },
    forget(conv) {
      loaded.delete(conv);
      settled.delete(conv);
    },
  };
}

// Fields of a conversation's hash: seq, last, n, s:<entryKey> (sent), k:<entryKey> (read).
const INIT = `if redis.call('exists', KEYS[1]) == 0 then redis.call('hset', KEYS[1], unpack(ARGV)) end return 1`;
const SETTLE = `
if redis.call('set', KEYS[2], '1', 'NX', 'EX', 604800) then
  redis.call('hincrby', KEYS[1], 'n', tonumber(ARGV[1]))
  local i = 4
  while i <= #ARGV do
    redis.call('hincrby', KEYS[1], 's:' .. ARGV[i], tonumber(ARGV[i + 1]))
    i = i + 2
  end
  if tonumber(redis.call('hget', KEYS[1], 'last') or '0') < tonumber(ARGV[2]) then redis.call('hset', KEYS[1], 'last', ARGV[2]) end
  if tonumber(redis.call('hget', KEYS[1], 'seq') or '0') < tonumber(ARGV[3]) then redis.call('hset', KEYS[1], 'seq', ARGV[3]) end
end
return redis.call('hgetall', KEYS[1])`;
const MARK_READ = `
local last = tonumber(redis.call('hget', KEYS[1], 'last') or '0')
local before = tonumber(redis.call('hget', KEYS[1], 'k:' .. ARGV[2]) or '0')
local upTo = tonumber(ARGV[1])
if upTo >= 0 and upTo < last then return {0, before, last} end
local now = tonumber(redis.call('hget', KEYS[1], 'n') or '0') - tonumber(redis.call('hget', KEYS[1], 's:' .. ARGV[2]) or '0')
if now <= before then return {0, before, last} end
redis.call('hset', KEYS[1], 'k:' .. ARGV[2], now)
return {1, now, last}`;

type CountersRedis = Redis & {
  parleyConvInit(key: string, ...fields: (string | number)[]): Promise<number>;
  parleyConvSettle(key: string, marker: string, ...args: (string | number)[]): Promise<string[]>;
  parleyConvMarkRead(key: string, upTo: number, reader: string): Promise<[number, number, number]>;
};

function fromHash(flat: string[]): ConversationCounts {
  const counts = emptyCounts();
  for (let i = 0; i < flat.length; i += 2) {
    const field = flat[i]!;
    const value = Number(flat[i + 1]);
    if (field === 'seq' || field === 'last' || field === 'n') counts[field] = value;
    else if (field.startsWith('s:')) counts.sent[field.slice(2)] = value;
    else if (field.startsWith('k:')) counts.readN[field.slice(2)] = value;
  }
  return counts;
}

function toHash(counts: ConversationCounts): (string | number)[] {
  const fields: (string | number)[] = ['seq', counts.seq, 'last', counts.last, 'n', counts.n];
  for (const [key, value] of Object.entries(counts.sent)) fields.push(`s:${key}`, value);
  for (const [key, value] of Object.entries(counts.readN)) fields.push(`k:${key}`, value);
  return fields;
}

/** Several processes share the database: Redis owns the counts. `key` adds the deployment's prefix. */
export function createRedisCounters(client: Redis, key: (name: string) => string): ConversationCounters {
  const redis = client as CountersRedis;
  redis.defineCommand('parleyConvInit', { numberOfKeys: 1, lua: INIT });
  redis.defineCommand('parleyConvSettle', { numberOfKeys: 2, lua: SETTLE });
  redis.defineCommand('parleyConvMarkRead', { numberOfKeys: 1, lua: MARK_READ });
  /** Conversations this process has seen in Redis already (the hash outlives processes). */
  const initialised = new Map<string, Promise<void>>();
  const hash = (conv: string) => key(`conv:${conv}`);

  function ensure(conv: string): Promise<void> {
    let ready = initialised.get(conv);
    if (!ready) {
      ready = (async () => {
        if ((await redis.exists(hash(conv))) === 1) return;
        // First touch anywhere since Redis started: seed from the database, unless
        // another process seeded it meanwhile (INIT writes only a missing hash).
        await redis.parleyConvInit(hash(conv), ...toHash(await loadCounts(conv)));
      })();
      initialised.set(conv, ready);
      ready.catch(() => initialised.delete(conv));
      // Bounded memory: the hash in Redis is what counts.
      if (initialised.size > 100_000) initialised.delete(initialised.keys().next().value!);
    }
    return ready;
  }

  /** Redis not answering: the send is refused as unavailable (db/errors.ts), not stored without its numbers. */
  async function answered<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      throw new LockUnavailableError(`conversation counters: Redis did not answer (${(err as Error).message})`, { cause: err });
    }
  }

  return {
    async reserve(conv, count) {
      await answered(ensure(conv));
      const end = await answered(redis.hincrby(hash(conv), 'seq', count));
      return end - count + 1;
    },
    async settle(batchId, conv, stored, to) {
      await answered(ensure(conv));
      const bySender = new Map<string, number>();
      let last = 0;
      for (const m of stored) {
        const k = entryKey(m.from);
        bySender.set(k, (bySender.get(k) ?? 0) + 1);
        last = Math.max(last, m.seq);
      }
      const args: (string | number)[] = [stored.length, last, to];
      for (const [k, c] of bySender) args.push(k, c);
      return fromHash(await answered(redis.parleyConvSettle(hash(conv), key(`settled:${batchId}:${conv}`), ...args)));
    },
    async markRead(conv, reader, upTo) {
      await answered(ensure(conv));
      const [changed, readN, last] = await answered(redis.parleyConvMarkRead(hash(conv), upTo ?? -1, entryKey(reader)));
      return { changed: changed === 1, readN: Number(readN), last: Number(last) };
    },
    async current(conv) {
      await answered(ensure(conv));
      return fromHash(await answered(redis.hgetall(hash(conv)).then((h) => Object.entries(h).flat())));
    },
    forget(conv) {
      initialised.delete(conv);
    },
  };
}
