// An upsert racing another upsert of the same new `_id` (another process, on MongoDB)
// loses with E11000 (duplicate key); the document exists by then, so the retry updates it.
import { isDuplicateKey } from './errors.ts';

export async function upsertRetryingOnce<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return write();
  }
}
