// Every update of a user document in this process goes through one queue per user
// (see db/serial-writes.ts): FerretDB 1.x applies an update as read-modify-write of the
// whole document, so a block recorded while the same member's post count is bumped
// would otherwise lose one of the two. One shared queue, whichever feature writes.
import { createSerialWrites } from '../db/serial-writes.ts';

const userWrites = createSerialWrites();
const listeners = new Set<(userId: string) => void>();

export function writeUser<T>(userId: string, write: () => Promise<T>): Promise<T> {
  const done = userWrites.run(`user:${userId}`, write);
  // Whatever the outcome: a write that failed half-way may still have changed the document.
  const tell = () => listeners.forEach((listener) => listener(userId));
  done.then(tell, tell);
  return done;
}

/** Called after every write to a user in this process (caches drop their copy). */
export function onUserWritten(listener: (userId: string) => void): void {
  listeners.add(listener);
}
