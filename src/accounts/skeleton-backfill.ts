// Members who registered before skeletons were kept (accounts/username-rules.ts) get
// theirs once, at the first start that knows about them, so that a look-alike of an
// older name is refused too. A marker says it is done; two processes starting together
// may both run it, which is harmless (the same `_id`s, duplicates skipped).
import mongoose, { Schema } from 'mongoose';
import { UserModel, UsernameSkeletonModel } from './user-model.ts';
import { usernameSkeleton } from './username-rules.ts';
import { upsertRetryingOnce } from '../db/upsert.ts';

const MARKER = 'username-skeletons';
/** Inserts go in batches (FerretDB takes insertMany well; a huge one would hold its writer). */
const BATCH = 1000;

const migrationSchema = new Schema({ _id: { type: String, required: true }, at: Date }, { collection: 'migrations', versionKey: false });
const MigrationModel = mongoose.models.Migration ?? mongoose.model('Migration', migrationSchema);

/** Gives every member without a stored skeleton theirs; once per database. */
export async function backfillUsernameSkeletons(): Promise<void> {
  if (await MigrationModel.exists({ _id: MARKER }).exec()) return;
  let batch: { _id: string; userId: mongoose.Types.ObjectId }[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    try {
      // Unordered: a skeleton already claimed (two older names that look alike, or a
      // process doing the same) is skipped, the rest go in.
      await UsernameSkeletonModel.collection.insertMany(batch as never[], { ordered: false });
    } catch (err) {
      const duplicatesOnly = err instanceof mongoose.mongo.MongoBulkWriteError && [err.writeErrors].flat().every((e) => e.code === 11000);
      if (!duplicatesOnly) throw err;
    }
    batch = [];
  };
  for await (const user of UserModel.find({}, { username: 1 }).lean().cursor()) {
    batch.push({ _id: usernameSkeleton(user.username), userId: user._id });
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  // Two processes starting on one database both get here: the loser of the upsert race updates.
  await upsertRetryingOnce(() => MigrationModel.updateOne({ _id: MARKER }, { $set: { at: new Date() } }, { upsert: true }).exec());
}
