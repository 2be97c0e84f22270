// Who may do what. Roles live on the user (accounts/user-model.ts); a missing role is a member.
import { UserModel } from '../accounts/user-model.ts';
import { writeUser } from '../accounts/user-writes.ts';

export type Role = 'member' | 'moderator' | 'admin';
export const ROLES: readonly Role[] = ['member', 'moderator', 'admin'];

interface HasRole {
  role?: string | null;
}

export const isAdmin = (user: HasRole | undefined | null): boolean => user?.role === 'admin';
export const isModerator = (user: HasRole | undefined | null): boolean => user?.role === 'moderator' || isAdmin(user);

/** Suspended now: `suspendedUntil` lies ahead. "For good" is a date far in the future. */
export function isSuspended(user: { suspendedUntil?: Date | null } | undefined | null, now = new Date()): boolean {
  return Boolean(user?.suspendedUntil && user.suspendedUntil.getTime() > now.getTime());
}

/** What "for good" is stored as: a date every engine and every browser can show. */
export const FOREVER = new Date('9999-12-31T00:00:00Z');

/** Through the shared user-write queue: every process drops its kept copy of the member. */
export function setRole(userId: string, role: Role): Promise<unknown> {
  return writeUser(userId, () => UserModel.updateOne({ _id: userId }, { $set: { role } }).exec());
}
