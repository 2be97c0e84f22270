// Every update of a user document in this process goes through one queue per user
// (see db/serial-writes.ts): FerretDB 1.x applies an update as read-modify-write of the
// whole document, so a block recorded while the same member's post count is bumped
// would otherwise lose one of the two. One shared queue, whichever feature writes.
import { createSerialWrites } from '../db/serial-writes.ts';

const userWrites = createSerialWrites();

/** Where a user was written: in this process, or in another one that said so. */
export type WrittenWhere = 'here' | 'elsewhere';
const listeners = new Set<(userId: string, where: WrittenWhere) => void>();

export function writeUser<T>(userId: string, write: () => Promise<T>): Promise<T> {
  const done = userWrites.run(`user:${userId}`, write);
  // Whatever the outcome: a write that failed half-way may still have changed the document.
  const tell = () => listeners.forEach((listener) => listener(userId, 'here'));
  done.then(tell, tell);
  return done;
}

/** Another process wrote this user (it told us through Redis). */
export function userWrittenElsewhere(userId: string): void {
  listeners.forEach((listener) => listener(userId, 'elsewhere'));
}

/** Called after every write to a user (caches drop their copy; server.ts tells the other processes). */
export function onUserWritten(listener: (userId: string, where: WrittenWhere) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
