// What a group's message costs the engine next to a pair's (issue 12's target: a send to a
// group of 20 costs no more engine commands than a send to a pair in the same batch).
// Parley's own send() in the bench process, as the database scenario drives it, against a
// fresh embedded FerretDB whose every command is counted by the driver's command monitor:
// a batch of sends, then the views pass behind it, pair and group alike.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { createUserReader } from '../../src/accounts/user-cache.ts';
import { UsernameModel, usernameKey, UserModel } from '../../src/accounts/user-model.ts';
import { loadConfig } from '../../src/config.ts';
import { startEmbeddedDatabase } from '../../src/db/embedded.ts';
import { createLogger } from '../../src/log.ts';
import { createMessagingService } from '../../src/messaging/service.ts';
import { createMessagingStorage } from '../../src/messaging/storage.ts';
import type { BenchOptions } from '../lib/options.ts';
import { formatNumber, type Figure, type ScenarioReport, type Table } from '../lib/report-model.ts';
import { summarize } from '../lib/stats.ts';

const GROUP_SIZE = 20;
/** Messages sent together, so that they share one batch. */
const BATCH_SIZES = [1, 10, 50];
const ROUNDS = 5;

interface Counted {
  total: number;
  byName: Map<string, number>;
}

export async function groupsScenario(options: BenchOptions, progress: (line: string) => void): Promise<ScenarioReport> {
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-bench-groups-'));
  const database = await startEmbeddedDatabase({ engine: 'ferretdb', dataDir, log: quiet as never });
  const rounds = options.quick ? 2 : ROUNDS;
  try {
    mongoose.set('strictQuery', true);
    await mongoose.connect(database.uri, { dbName: `bench_groups_${crypto.randomBytes(3).toString('hex')}`, monitorCommands: true });
    const counted: Counted = { total: 0, byName: new Map() };
    let counting = false;
    mongoose.connection.getClient().on('commandStarted', (event) => {
      if (!counting) return;
      counted.total += 1;
      counted.byName.set(event.commandName, (counted.byName.get(event.commandName) ?? 0) + 1);
    });

    // As server.ts builds it: members and badges kept for READ_CACHE_MS.
    const config = loadConfig({ RATE_LIMITS: 'off', LOG_LEVEL: 'silent' });
    const storage = createMessagingStorage({ log: createLogger(config), badgeCacheMs: config.readCacheMs });
    await storage.prepare();
    const unlimited = { consume: async () => ({ ok: true as const }), reset: async () => undefined };
    const service = createMessagingService({
      config,
      readUser: createUserReader(config.readCacheMs),
      limiters: { message: unlimited, group: unlimited },
      deliveries: { notify: () => undefined, whoIsOnline: async () => new Set() },
      store: storage.store,
      commit: storage.commit,
    });
    const members = await Promise.all(
      Array.from({ length: GROUP_SIZE }, async (_, i) => {
        const username = `g${i}${crypto.randomBytes(3).toString('hex')}`;
        const user = await UserModel.create({ username, passwordHash: 'unused' });
        await UsernameModel.create({ _id: usernameKey(username), userId: user._id });
        return { id: user._id.toString(), username };
      }),
    );
    const [owner, other] = members as [(typeof members)[0], (typeof members)[0]];
    const started = await service.groups.start(owner, members.slice(1).map((m) => m.username));
    if (!started.ok) throw new Error(`group not started: ${started.code}`);
    const conv = started.conv;

    /** `count` sends at once (one batch), then the views pass behind them; the commands all that took. */
    async function batch(kind: 'pair' | 'group', count: number): Promise<{ commands: Counted; ms: number }> {
      counted.total = 0;
      counted.byName = new Map();
      counting = true;
      const t0 = performance.now();
      const sends = Array.from({ length: count }, (_, i) => {
        const sender = kind === 'pair' ? (i % 2 === 0 ? owner : other) : members[i % GROUP_SIZE]!;
        const to = kind === 'pair' ? { to_user: (sender === owner ? other : owner).id } : { conversation: conv };
        return service.send(sender, { ...to, content: `message ${i} of a batch of ${count}, about eighty characters long....` });
      });
      const results = await Promise.all(sends);
      const ms = performance.now() - t0;
      await storage.views.flush(10_000);
      counting = false;
      const refused = results.find((r) => !r.ok);
      if (refused) throw new Error(`send refused: ${JSON.stringify(refused)}`);
      return { commands: { total: counted.total, byName: new Map(counted.byName) }, ms };
    }

    // Once each first: the caches (members, users, badges, counters) as a running server has them.
    await batch('pair', 2);
    await batch('group', 2);

    const rows: string[][] = [];
    const figures: Figure[] = [];
    for (const size of BATCH_SIZES) {
      const measured: Record<'pair' | 'group', { commands: number[]; byName: Map<string, number>[]; ms: number[] }> = {
        pair: { commands: [], byName: [], ms: [] },
        group: { commands: [], byName: [], ms: [] },
      };
      for (let r = 0; r < rounds; r++) {
        for (const kind of ['pair', 'group'] as const) {
          const { commands, ms } = await batch(kind, size);
          measured[kind].commands.push(commands.total);
          measured[kind].byName.push(commands.byName);
          measured[kind].ms.push(ms);
        }
      }
      for (const kind of ['pair', 'group'] as const) {
        const m = measured[kind];
        const median = summarize(m.commands).p50;
        const names = [...new Set(m.byName.flatMap((b) => [...b.keys()]))].sort();
        const mix = names.map((n) => `${n} ${formatNumber(m.byName.reduce((s, b) => s + (b.get(n) ?? 0), 0) / m.byName.length, 1)}`).join(', ');
        rows.push([kind === 'pair' ? 'a pair' : `a group of ${GROUP_SIZE}`, String(size), formatNumber(median, 0), formatNumber(median / size, 2), mix, formatNumber(summarize(m.ms).p50, 0)]);
        figures.push({ key: `groups.commands.${kind}.${size}`, label: `Engine commands per batch of ${size}, ${kind === 'pair' ? 'pair' : `group of ${GROUP_SIZE}`}`, value: median, unit: 'commands' });
      }
      progress(`batch of ${size}: pair ${figures.at(-2)!.value} commands, group of ${GROUP_SIZE} ${figures.at(-1)!.value}`);
    }
    const table: Table = {
      caption: `Engine commands per batch of sends, the views pass behind it included (median of ${rounds} rounds)`,
      head: ['to', 'messages in the batch', 'commands', 'per message', 'commands by name (mean)', 'acknowledged in (ms, median)'],
      rows,
    };
    await storage.views.flush(10_000);
    return {
      id: 'groups',
      title: `Groups: what a message to a group of ${GROUP_SIZE} costs the engine next to a pair`,
      method:
        `Parley’s \`send()\` (src/messaging/service.ts) in the bench process, as the database scenario drives it, with the per-process ` +
        `caches a server has (READ_CACHE_MS), against a fresh embedded FerretDB. Each round sends a batch of messages at once ` +
        `(sharing one group commit) to a pair, then to a group of ${GROUP_SIZE}, and waits for the views written behind them; the ` +
        `driver’s command monitor counts every command sent to the engine meanwhile. A group’s messages write no member’s inbox: ` +
        `each member’s unread count derives from the conversation’s counters and their read count (src/messaging/groups.ts).`,
      figures,
      tables: [table],
      integrity: [],
      notes: [],
    };
  } finally {
    await mongoose.disconnect();
    await database.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}
