// Registration and sign-in, independent of HTTP.
import mongoose from 'mongoose';
import { isDuplicateKey } from '../db/errors.ts';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.ts';
import { findUserByUsername, UserModel, UsernameModel, UsernameSkeletonModel, usernameKey, type UserDocument } from './user-model.ts';
import { usernameSkeleton } from './username-rules.ts';

export class UsernameTakenError extends Error {
  override name = 'UsernameTakenError';
}

/** The name looks like an existing member's (their TR 39 skeletons are equal). */
export class UsernameConfusableError extends Error {
  override name = 'UsernameConfusableError';
}

/**
 * Claims the username first (its case-folded form is the _id of `usernames`, so two
 * registrations racing for "Alice" and "alice" cannot both win), then its skeleton
 * (likewise for "secA" and "ѕecA"), then creates the user.
 */
export async function registerUser(username: string, password: string, locale?: string): Promise<UserDocument> {
  const userId = new mongoose.Types.ObjectId();
  try {
    await UsernameModel.create({ _id: usernameKey(username), userId });
  } catch (err) {
    if (isDuplicateKey(err)) throw new UsernameTakenError(username);
    throw err;
  }
  // Release what was claimed so a retry can succeed; nothing half-made stays behind.
  const release = async (skeleton: boolean) => {
    await UsernameModel.deleteOne({ _id: usernameKey(username), userId }).catch(() => undefined);
    if (skeleton) await UsernameSkeletonModel.deleteOne({ _id: usernameSkeleton(username), userId }).catch(() => undefined);
  };
  try {
    await UsernameSkeletonModel.create({ _id: usernameSkeleton(username), userId });
  } catch (err) {
    await release(false);
    if (isDuplicateKey(err)) throw new UsernameConfusableError(username);
    throw err;
  }
  try {
    const passwordHash = await hashPassword(password);
    return await UserModel.create({ _id: userId, username, passwordHash, ...(locale ? { locale } : {}) });
  } catch (err) {
    await release(true);
    throw err;
  }
}

/** The user when the password matches, else null. Takes the same time either way. */
export async function authenticate(username: string, password: string): Promise<UserDocument | null> {
  const user = await findUserByUsername(username);
  const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
  return user && ok ? user : null;
}
