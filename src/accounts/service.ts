// Registration and sign-in, independent of HTTP.
import mongoose from 'mongoose';
import { isDuplicateKey } from '../db/errors.ts';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.ts';
import { findUserByUsername, UserModel, UsernameModel, usernameKey, type UserDocument } from './user-model.ts';

export class UsernameTakenError extends Error {
  override name = 'UsernameTakenError';
}

/**
 * Claims the username first (its case-folded form is the _id of `usernames`, so two
 * registrations racing for "Alice" and "alice" cannot both win), then creates the user.
 */
export async function registerUser(username: string, password: string, locale?: string): Promise<UserDocument> {
  const userId = new mongoose.Types.ObjectId();
  try {
    await UsernameModel.create({ _id: usernameKey(username), userId });
  } catch (err) {
    if (isDuplicateKey(err)) throw new UsernameTakenError(username);
    throw err;
  }
  try {
    const passwordHash = await hashPassword(password);
    return await UserModel.create({ _id: userId, username, passwordHash, ...(locale ? { locale } : {}) });
  } catch (err) {
    // Release the name so a retry can succeed; nothing half-made stays behind.
    await UsernameModel.deleteOne({ _id: usernameKey(username) }).catch(() => undefined);
    throw err;
  }
}

/** The user when the password matches, else null. Takes the same time either way. */
export async function authenticate(username: string, password: string): Promise<UserDocument | null> {
  const user = await findUserByUsername(username);
  const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
  return user && ok ? user : null;
}
