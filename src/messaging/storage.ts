// Builds the storage side of messaging in one place: the counters' owner (this process,
// or Redis when several share the database), the view writer, the group commit and the
// store that reads. server.ts, the bench and tests all build it here.
import type { Redis } from 'ioredis';
import { createSerialWrites, type SerialWrites } from '../db/serial-writes.ts';
import type { Logger } from '../log.ts';
import { createMemoryCounters, createRedisCounters, type ConversationCounters } from './counters.ts';
import { GroupCommit } from './group-commit.ts';
import { migrateMessaging } from './migrate.ts';
import { repairBatches } from './repair.ts';
import { MessageStore } from './store.ts';
import { ViewWriter } from './views.ts';

export interface StorageOptions {
  log: Logger;
  serial?: SerialWrites;
  /** Several processes share the database: counters live in Redis. `key` adds the prefix. */
  redis?: { client: Redis; key: (name: string) => string };
  badgeCacheMs?: number;
  maxBatch?: number;
  maxQueue?: number;
  maxWaitMs?: number;
  /** How long a start waits for repaired views to be written. */
  timeoutMs?: number;
}

export interface MessagingStorage {
  store: MessageStore;
  commit: GroupCommit;
  views: ViewWriter;
  counters: ConversationCounters;
  /** Before the first send: the migration of older data, then the repair of cut-short batches. */
  prepare(): Promise<void>;
  /** Stops the periodic repair sweep (several processes only). */
  stop(): void;
}

/** With several processes, another's batch younger than this may still be in the middle of its insert. */
const SWEEP_MIN_AGE_MS = 30_000;
const SWEEP_EVERY_MS = 30_000;

export function createMessagingStorage(options: StorageOptions): MessagingStorage {
  const serial = options.serial ?? createSerialWrites();
  const counters = options.redis ? createRedisCounters(options.redis.client, options.redis.key) : createMemoryCounters();
  const views = new ViewWriter({ serial, log: options.log });
  const store = new MessageStore({ serial, views, counters, badgeCacheMs: options.badgeCacheMs });
  const commit = new GroupCommit({ counters, views, maxBatch: options.maxBatch, maxQueue: options.maxQueue, maxWaitMs: options.maxWaitMs });
  const timeoutMs = options.timeoutMs ?? 10_000;
  let sweep: NodeJS.Timeout | undefined;
  return {
    store,
    commit,
    views,
    counters,
    async prepare() {
      await migrateMessaging(options.log);
      const shared = options.redis !== undefined;
      await repairBatches({ counters, views, log: options.log, timeoutMs, minAgeMs: shared ? SWEEP_MIN_AGE_MS : 0 });
      if (shared) {
        sweep = setInterval(() => {
          repairBatches({ counters, views, log: options.log, timeoutMs, minAgeMs: SWEEP_MIN_AGE_MS }).catch((err: unknown) =>
            options.log.warn({ reason: (err as Error).message }, 'messaging: repair sweep failed; next time'),
          );
        }, SWEEP_EVERY_MS);
        sweep.unref();
      }
    },
    stop() {
      clearInterval(sweep);
    },
  };
}
