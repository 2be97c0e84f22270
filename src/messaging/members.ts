// Finding the other member of a conversation: by id through the per-process copy of
// users (accounts/user-cache.ts), by username from the database.
import { findUserById, findUserByUsername, type UserDocument } from '../accounts/user-model.ts';

export type ReadUser = (userId: string) => Promise<UserDocument | null>;
export type FindOther = (by: { id?: string; username?: string }) => Promise<UserDocument | null>;

export function createFindOther(readUser: ReadUser = findUserById): FindOther {
  return async (by) => {
    if (by.id !== undefined) return readUser(by.id);
    if (by.username !== undefined) return findUserByUsername(by.username);
    return null;
  };
}
