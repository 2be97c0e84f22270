// One write at a time per key, within this process.
//
// FerretDB 1.x (the embedded engine, SQLite backend) applies an update by reading the
// document, changing it in Go and writing it back, with nothing isolating the pair: in
// our probe 50 concurrent `$inc: 1` on one document left it at 10, and concurrent
// `$push`es and compare-and-set updates lost each other the same way. MongoDB applies
// update operators atomically, so there this queue adds nothing but a promise hop; on
// FerretDB it makes `$inc`, `$push` and conditional updates behave as on MongoDB, as long
// as one process writes a given document (true of the embedded set-up).
//
// The messaging branch wrote the same queue under this name and interface; whichever
// lands second keeps one copy.
export interface SerialWrites {
  /** Runs `write` after every earlier write queued under `key` has settled. */
  run<T>(key: string, write: () => Promise<T>): Promise<T>;
  /** Keys with writes queued or in flight. */
  readonly pending: number;
}

export function createSerialWrites(): SerialWrites {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run(key, write) {
      const previous = tails.get(key) ?? Promise.resolve();
      const result = previous.then(write); // a tail never rejects
      const tail = result.catch(() => undefined);
      tails.set(key, tail);
      void tail.then(() => {
        // Forget the key once nothing waits behind this write, so the map stays small.
        if (tails.get(key) === tail) tails.delete(key);
      });
      return result;
    },
    get pending() {
      return tails.size;
    },
  };
}
