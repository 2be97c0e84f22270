// One write at a time per document: within this process always, and across processes
// when given a cross-process lock (a Redis lock, see redis-lock.ts).
//
// FerretDB 1.x (SQLite backend) runs every update as "read the document, apply the
// operators in Go, write the whole document back" with no transaction around the pair
// (internal/handler/msg_update.go, backends/sqlite UpdateAll). Two concurrent `$inc`s on
// one document both read the old value and one is lost: 100 concurrent `$inc: 1` left a
// counter at 6 in our probe. Only an insert with a unique `_id` is atomic there.
// MongoDB applies update operators atomically, so on MongoDB this queue costs one
// promise hop and adds no correctness; on FerretDB it is what makes `$inc`, `$push`
// and conditional updates behave as they do on MongoDB. Several processes on one FerretDB
// (scale-out) need the queue to hold across them: each write then also holds the key's
// Redis lock, taken only once its turn in the local queue has come. MongoDB needs no lock.
//
// It is also the seam for group commits: every write to a document already queues
// here, so a batching layer can merge what waits in one queue into a single command.

import type { KeyLock } from './redis-lock.ts';

export interface SerialWrites {
  /** Runs `write` after every earlier write queued under `key` has settled. */
  run<T>(key: string, write: () => Promise<T>): Promise<T>;
  /**
   * Runs `write` once it holds every key: one command covering several documents (a
   * bulkWrite) queues behind the earlier writes to each of them, and later ones behind it.
   */
  runMany<T>(keys: string[], write: () => Promise<T>): Promise<T>;
  /** Keys with writes queued or in flight (for tests and diagnostics). */
  readonly pending: number;
}

export function createSerialWrites(options: { lock?: KeyLock } = {}): SerialWrites {
  const tails = new Map<string, Promise<unknown>>();
  const { lock } = options;
  return {
    run<T>(key: string, write: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve();
      // previous never rejects: see tail
      const result = previous.then(lock ? () => lock.hold(key, write) : write);
      const tail = result.catch(() => undefined);
      tails.set(key, tail);
      // Forget the key once nothing is queued behind this write, so the map stays small.
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return result;
    },
    runMany<T>(keys: string[], write: () => Promise<T>): Promise<T> {
      // Sorted, so two processes taking the same Redis locks take them in the same order.
      const unique = [...new Set(keys)].sort();
      const previous = Promise.all(unique.map((key) => tails.get(key) ?? Promise.resolve()));
      const holdAll = (i: number): Promise<T> => (i === unique.length ? write() : lock!.hold(unique[i]!, () => holdAll(i + 1)));
      const result = previous.then(lock ? () => holdAll(0) : write);
      const tail = result.catch(() => undefined);
      for (const key of unique) {
        tails.set(key, tail);
        void tail.then(() => {
          if (tails.get(key) === tail) tails.delete(key);
        });
      }
      return result;
    },
    get pending() {
      return tails.size;
    },
  };
}
