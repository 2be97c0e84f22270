// The door every messaging write goes through (a send, a mark-read): closed while the
// database is away or the process is shutting down, so the answer is clear and at once,
// and a write that stalls is answered "not confirmed" after the store timeout.
import { createInFlight, withDeadline } from './in-flight.ts';
import { refuse, type Refusal } from './message-view.ts';

export interface WriteGate {
  /** Why a write cannot start now, if it cannot. */
  cannotWrite(): Refusal | undefined;
  /** Tracks the write for shutdown and answers within the store timeout. Call only when cannotWrite() said nothing. */
  run<T>(write: () => Promise<T>): Promise<T | Refusal>;
  /** Tracks without a deadline (a send: its own deadline is answered by whoever waits for it). */
  track<T>(write: () => Promise<T>): Promise<T>;
  answerInTime<T>(work: Promise<T>): Promise<T | Refusal>;
  /** Refuses new writes from now on; resolves once those under way settled, or after `timeoutMs`. */
  close(timeoutMs: number): Promise<void>;
  readonly size: number;
}

export function createWriteGate(options: { timeoutMs: number; isDatabaseConnected?: () => boolean }): WriteGate {
  const writes = createInFlight();
  const isDatabaseConnected = options.isDatabaseConnected ?? (() => true);
  /**
   * A database that stalls without dropping the connection (frozen, overloaded) would
   * leave the caller waiting for good; after the store timeout the caller is told the
   * write is not confirmed, while the write itself goes on. Resending with the same
   * client id is then safe either way.
   */
  const answerInTime = <T>(work: Promise<T>) => withDeadline<T | Refusal>(work, options.timeoutMs, () => refuse('unavailable', 'messaging.error.notConfirmed'));
  return {
    cannotWrite() {
      if (!writes.accepting) return refuse('unavailable', 'messaging.error.restarting');
      if (!isDatabaseConnected()) return refuse('unavailable', 'messaging.error.unavailable');
      return undefined;
    },
    run: (write) => answerInTime(writes.run(write)),
    track: (write) => writes.run(write),
    answerInTime,
    close: (timeoutMs) => writes.close(timeoutMs),
    get size() {
      return writes.size;
    },
  };
}
