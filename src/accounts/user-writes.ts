// Every update of a user document in this process goes through one queue per user
// (see db/serial-writes.ts): FerretDB 1.x applies an update as read-modify-write of the
// whole document, so a block recorded while the same member's post count is bumped
// would otherwise lose one of the two. One shared queue, whichever feature writes.
import { createSerialWrites } from '../db/serial-writes.ts';

const userWrites = createSerialWrites();

export function writeUser<T>(userId: string, write: () => Promise<T>): Promise<T> {
  return userWrites.run(`user:${userId}`, write);
}
