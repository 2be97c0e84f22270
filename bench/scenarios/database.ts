// The database's ceiling for messages: the writes a message makes, in a loop, with no
// sockets and no HTTP, against a fresh embedded FerretDB. One write set at a time, then
// the same writes grouped, to see what batching buys on this engine.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MongoClient, ObjectId, type Collection } from 'mongodb';
import { startEmbeddedDatabase } from '../../src/db/embedded.ts';
import { benchMessages, modelledMessageWrites, type BenchMessage, type MessageWriteModel, type MessageWriter } from '../lib/message-writes.ts';
import type { BenchOptions } from '../lib/options.ts';
import { parleyMessageWrites } from '../lib/parley-writes.ts';
import { formatNumber, formatSeconds, type Figure, type ScenarioReport } from '../lib/report-model.ts';
import { sleep, summarize, type LatencySummary } from '../lib/stats.ts';

interface WriteVariant {
  key: string;
  label: string;
  concurrency: number;
  /** Messages per call; 1 calls writeOne. */
  batch: number;
}

interface WriteResult {
  model: MessageWriteModel;
  variant: WriteVariant;
  messagesPerSecond: number;
  commandsPerSecond: number;
  /** Time of one writeOne / writeMany call. */
  call: LatencySummary;
  stored: number;
}

async function runWrites(writer: MessageWriter, model: MessageWriteModel, variant: WriteVariant, options: BenchOptions['database']): Promise<WriteResult> {
  const nextMessage = benchMessages();
  let seq = 0;
  let stopped = false;
  let windowFrom = Number.POSITIVE_INFINITY;
  let windowTo = Number.POSITIVE_INFINITY;
  let messagesInWindow = 0;
  let callsInWindow = 0;
  const callTimes: number[] = [];
  let failure: unknown;

  const worker = async () => {
    while (!stopped && !failure) {
      const messages: BenchMessage[] = Array.from({ length: variant.batch }, () => nextMessage(seq++));
      const started = performance.now();
      try {
        if (variant.batch === 1) await writer.writeOne(messages[0]!);
        else await writer.writeMany!(messages);
      } catch (err) {
        failure ??= err;
        return;
      }
      const ended = performance.now();
      if (started >= windowFrom && ended <= windowTo) {
        messagesInWindow += messages.length;
        callsInWindow += 1;
        callTimes.push(ended - started);
      }
    }
  };
  const workers = Array.from({ length: variant.concurrency }, worker);
  await sleep(options.warmupMs);
  windowFrom = performance.now();
  await sleep(options.measureMs);
  windowTo = performance.now();
  stopped = true;
  await Promise.all(workers);
  if (failure) throw failure;

  const seconds = (windowTo - windowFrom) / 1000;
  const commandsPerCall = variant.batch === 1 ? model.commandsPerMessage : (model.commandsPerBatch ?? Number.NaN);
  return {
    model,
    variant,
    messagesPerSecond: messagesInWindow / seconds,
    commandsPerSecond: (callsInWindow * commandsPerCall) / seconds,
    call: summarize(callTimes),
    stored: seq,
  };
}

interface Primitive {
  label: string;
  /** Documents written or read by one command. */
  perCommand: number;
  /** Fills the collection first, where the command's cost may depend on its size. */
  seed?: number;
  run(collection: Collection<Keyed>, i: number): Promise<unknown>;
}

type Keyed = { _id: string };
const GROUP = 50;
const BIG = 10_000;
const smallDocument = () => ({ _id: new ObjectId().toHexString(), text: 'x'.repeat(80), at: new Date() });
const byKey = (i: number, size: number): Keyed => ({ _id: `k${i % size}` });
const INCREMENT = { $inc: { n: 1 } };

// Single commands, one at a time: where a message's time goes, which kinds of grouping
// this engine rewards (it commits each command on its own), and which commands cost
// more as a collection grows.
const primitives: Primitive[] = [
  { label: 'insertOne', perCommand: 1, run: (c) => c.insertOne(smallDocument()) },
  { label: `insertMany of ${GROUP}`, perCommand: GROUP, run: (c) => c.insertMany(Array.from({ length: GROUP }, smallDocument)) },
  { label: 'updateOne by _id ($inc, upsert), 100 documents', perCommand: 1, run: (c, i) => c.updateOne(byKey(i, 100), INCREMENT, { upsert: true }) },
  {
    label: `bulkWrite of ${GROUP} such updates`,
    perCommand: GROUP,
    run: (c) => c.bulkWrite(Array.from({ length: GROUP }, (_, i) => ({ updateOne: { filter: byKey(i, 100), update: INCREMENT, upsert: true } }))),
  },
  { label: `updateOne by _id ($inc), ${formatNumber(BIG, 0)} documents`, perCommand: 1, seed: BIG, run: (c, i) => c.updateOne(byKey(i * 7919, BIG), INCREMENT) },
  { label: `findOne by _id, ${formatNumber(BIG, 0)} documents`, perCommand: 1, seed: BIG, run: (c, i) => c.findOne(byKey(i * 7919, BIG)) },
];

interface PrimitiveResult {
  label: string;
  commandsPerSecond: number;
  documentsPerSecond: number;
  meanMs: number;
}

async function measurePrimitives(uri: string, ms: number): Promise<PrimitiveResult[]> {
  const client = await MongoClient.connect(uri);
  try {
    const db = client.db(`bench_primitives_${crypto.randomBytes(3).toString('hex')}`);
    const results: PrimitiveResult[] = [];
    for (const [index, primitive] of primitives.entries()) {
      const collection = db.collection<Keyed>(`p${index}`);
      for (let n = 0; n < (primitive.seed ?? 0); n += 1000) {
        await collection.insertMany(Array.from({ length: 1000 }, (_, i) => ({ _id: `k${n + i}`, n: 0 })));
      }
      const started = performance.now();
      let commands = 0;
      while (performance.now() - started < ms) await primitive.run(collection, commands++);
      const elapsed = performance.now() - started;
      results.push({
        label: primitive.label,
        commandsPerSecond: commands / (elapsed / 1000),
        documentsPerSecond: (commands * primitive.perCommand) / (elapsed / 1000),
        meanMs: elapsed / commands,
      });
    }
    return results;
  } finally {
    await client.close();
  }
}

/** Says so when a lookup by _id costs more in a big collection than in a small one. */
function explainGrowth(commands: PrimitiveResult[]): string[] {
  const small = commands.find((c) => c.label.startsWith('updateOne by _id') && c.label.endsWith('100 documents'));
  const big = commands.find((c) => c.label.startsWith('updateOne by _id') && c.label.endsWith(`${formatNumber(BIG, 0)} documents`));
  if (!small || !big || big.meanMs < 3 * small.meanMs) return [];
  return [
    `An update by exact \`_id\` took ${formatNumber(big.meanMs)} ms in a collection of ${formatNumber(BIG, 0)} documents against ` +
      `${formatNumber(small.meanMs)} ms in one of 100: on this engine its cost grows with the collection (so does \`findOne\` by ` +
      '`_id` for a document far from the start of the table). FerretDB v1.24.2’s SQLite backend indexes ' +
      '`_ferretdb_sjson->"_id"` but filters on `_ferretdb_sjson->\'$._id\'`; SQLite does not see these as the same ' +
      'expression, so it scans the table. Collections on the hot path must stay small, or the engine needs an index on the ' +
      'expression its queries use.',
  ];
}

export async function databaseScenario(
  options: BenchOptions,
  progress: (line: string) => void,
  models: MessageWriteModel[] = [modelledMessageWrites, parleyMessageWrites],
): Promise<ScenarioReport> {
  const { concurrency, batchSize } = options.database;
  const variants: WriteVariant[] = [
    { key: 'single', label: 'one message at a time', concurrency: 1, batch: 1 },
    { key: 'concurrent', label: `one message per call, ${concurrency} calls in flight`, concurrency, batch: 1 },
  ];
  if (batchSize > 1) {
    variants.push({ key: 'batched', label: `batches of ${batchSize} (insertMany + bulkWrite)`, concurrency: 1, batch: batchSize });
  }

  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-bench-db-'));
  const quiet = { info: () => undefined, warn: (m: unknown) => progress(String(m)), error: (m: unknown) => progress(String(m)) };
  const database = await startEmbeddedDatabase({ engine: 'ferretdb', dataDir, log: quiet as never });
  const results: WriteResult[] = [];
  let commands: PrimitiveResult[] = [];
  try {
    for (const model of models) {
      for (const variant of variants) {
        // A fresh database per variant: no variant pays for the data another one left.
        const writer = await model.open({ uri: database.uri, dbName: `bench_${model.name}_${variant.key}_${crypto.randomBytes(3).toString('hex')}` });
        try {
          if (variant.batch > 1 && !writer.writeMany) continue;
          const result = await runWrites(writer, model, variant, options.database);
          progress(`database, ${model.name} writes, ${variant.label}: ${formatNumber(result.messagesPerSecond)} msg/s`);
          results.push(result);
        } finally {
          await writer.close();
        }
      }
    }
    commands = await measurePrimitives(database.uri, options.database.primitiveMs);
  } finally {
    await database.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  }

  const engineName = database.engine === 'ferretdb' ? 'FerretDB' : 'mongod';
  // The modelled writes keep their original keys, so figures compare across runs.
  const keyOf = (r: WriteResult) => (r.model === modelledMessageWrites ? `database.${r.variant.key}` : `database.${r.model.name}.${r.variant.key}`);
  const figures: Figure[] = results.map((r) => ({
    key: keyOf(r),
    label: `Database ceiling, ${r.model.name} writes, ${r.variant.label}`,
    value: r.messagesPerSecond,
    unit: 'msg/s',
    chart: 'messages',
  }));
  return {
    id: 'database',
    title: `Database ceiling (embedded ${engineName})`,
    method:
      `The writes of one message in a loop in the bench process, with no sockets, against a fresh embedded ${engineName} in a ` +
      `temporary directory. Two write sets: ${models.map((m) => `**${m.name}**: ${m.describe}`).join('; ')}. Each variant writes ` +
      `into a new, empty database for ${formatSeconds(options.database.measureMs)} after ${formatSeconds(options.database.warmupMs)} of warm-up.`,
    figures,
    tables: [
      {
        head: ['writes', 'pattern', 'messages/s', 'commands/s', 'call p50 (ms)', 'call p99 (ms)', 'messages stored'],
        rows: results.map((r) => [
          r.model.name,
          r.variant.label,
          formatNumber(r.messagesPerSecond),
          formatNumber(r.commandsPerSecond),
          formatNumber(r.call.p50),
          formatNumber(r.call.p99),
          formatNumber(r.stored, 0),
        ]),
      },
      {
        caption: `Single commands, one at a time (${formatSeconds(options.database.primitiveMs)} each): what grouping buys on this engine`,
        head: ['command', 'commands/s', 'documents/s', 'mean (ms)'],
        rows: commands.map((c) => [c.label, formatNumber(c.commandsPerSecond), formatNumber(c.documentsPerSecond), formatNumber(c.meanMs)]),
      },
    ],
    integrity: [],
    notes: [`Write models: ${models.map((m) => `\`${m.name}\``).join(', ')} (bench/lib/message-writes.ts, bench/lib/parley-writes.ts).`, ...explainGrowth(commands)],
  };
}
