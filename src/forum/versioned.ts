// Read-modify-write of one document that lands only on the version it read. FerretDB 1.x
// has no positional (`$`) updates, no arrayFilters, and `$pull` matches whole elements
// only, so changing one entry inside an array (a reply in its page, a post in its board's
// list) means writing the array back. On MongoDB no lock is held across processes: the
// `version` condition makes a writer that lost the race read again and retry.
import type { Model } from 'mongoose';
import { isDuplicateKey } from '../db/errors.ts';

const ATTEMPTS = 8;

export class ContendedError extends Error {
  override name = 'ContendedError';
}

/**
 * `change` gets the document as read (null when there is none) and returns the fields
 * to set, or null to leave it as it is. A missing document is created with what
 * `change` returns. Resolves to whether anything was written.
 */
export async function updateVersioned<D extends { version?: number | null }>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  model: Model<any>,
  id: string,
  change: (doc: D | null) => Partial<D> | null,
): Promise<boolean> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const doc = await model.findById(id).lean<D>().exec();
    const fields = change(doc);
    if (!fields) return false;
    if (!doc) {
      try {
        await model.create({ _id: id, ...fields, version: 1 });
        return true;
      } catch (err) {
        if (isDuplicateKey(err)) continue;
        throw err;
      }
    }
    const version = doc.version ?? null;
    // `version: null` also matches a document written before it had one.
    const result = await model.updateOne({ _id: id, version }, { $set: { ...fields, version: (version ?? 0) + 1 } }).exec();
    if (result.matchedCount === 1) return true;
  }
  throw new ContendedError(`${model.collection.name} ${id}: too many concurrent writers`);
}
