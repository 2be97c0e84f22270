// The writes a process has started and not finished. Shutdown closes the door (new
// writes are refused with a clear answer) and then waits for those already under way,
// so that a message accepted before SIGTERM is stored whole and acknowledged, never
// left half-written by the database connection closing under it.

export interface InFlight {
  /** False once closing has begun: callers refuse new work instead of starting it. */
  readonly accepting: boolean;
  /** How many are running now (diagnostics, tests). */
  readonly size: number;
  /** Tracks `work` until it settles. Call only while `accepting`. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Stops accepting, then resolves once everything running has settled, or after `timeoutMs`. */
  close(timeoutMs: number): Promise<void>;
}

export function createInFlight(): InFlight {
  const running = new Set<Promise<unknown>>();
  let accepting = true;
  return {
    get accepting() {
      return accepting;
    },
    get size() {
      return running.size;
    },
    run(work) {
      const promise = work();
      running.add(promise);
      const forget = () => running.delete(promise);
      promise.then(forget, forget);
      return promise;
    },
    async close(timeoutMs) {
      accepting = false;
      await withDeadline(Promise.allSettled([...running]), timeoutMs, () => []);
    },
  };
}

/**
 * Settles with `work`, or with `late()` once `ms` have passed without it. `work` goes on
 * (and stays tracked for shutdown); only the caller stops waiting for it.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, late: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(late()), ms)));
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
