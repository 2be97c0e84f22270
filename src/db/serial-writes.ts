// One write at a time per document, within this process.
//
// FerretDB 1.x (SQLite backend) runs every update as "read the document, apply the
// operators in Go, write the whole document back" with no transaction around the pair
// (internal/handler/msg_update.go, backends/sqlite UpdateAll). Two concurrent `$inc`s on
// one document both read the old value and one is lost: 100 concurrent `$inc: 1` left a
// counter at 6 in our probe. Only an insert with a unique `_id` is atomic there.
// MongoDB applies update operators atomically, so on MongoDB this queue costs one
// promise hop and adds no correctness; on FerretDB it is what makes `$inc`, `$push`
// and conditional updates behave as they do on MongoDB, as long as one process writes
// a given document (scale-out on FerretDB would need a shared lock; on MongoDB it does not).
//
// It is also the seam for group commits: every write to a document already queues
// here, so a batching layer can merge what waits in one queue into a single command.

export interface SerialWrites {
  /** Runs `write` after every earlier write queued under `key` has settled. */
  run<T>(key: string, write: () => Promise<T>): Promise<T>;
  /** Keys with writes queued or in flight (for tests and diagnostics). */
  readonly pending: number;
}

export function createSerialWrites(): SerialWrites {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run<T>(key: string, write: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve();
      const result = previous.then(write); // previous never rejects: see tail
      const tail = result.catch(() => undefined);
      tails.set(key, tail);
      // Forget the key once nothing is queued behind this write, so the map stays small.
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return result;
    },
    get pending() {
      return tails.size;
    },
  };
}
