// Suspending a member: until a date, or for good (roles.ts FOREVER). Recorded on the user
// through the shared user-write queue, so every process's kept copy of the member is
// dropped at once (accounts/user-cache.ts relays it through Redis); then every socket of
// theirs is closed on every process (Socket.IO's adapter carries the disconnect). From
// then on the member is signed out on every page (http/locals.ts), cannot sign in
// (accounts/routes.ts), and their sockets are refused at the handshake (realtime/io.ts).
import { UserModel } from '../accounts/user-model.ts';
import { writeUser } from '../accounts/user-writes.ts';
import { formatDate, type Locale } from '../i18n/index.ts';
import { FOREVER } from './roles.ts';

export const SUSPENSION_DAYS = ['1', '7', '30', 'forever'] as const;
export type SuspensionLength = (typeof SUSPENSION_DAYS)[number];

export function suspensionEnd(length: SuspensionLength, now = new Date()): Date {
  return length === 'forever' ? FOREVER : new Date(now.getTime() + Number(length) * 24 * 60 * 60 * 1000);
}

export async function setSuspension(userId: string, until: Date | null, closeUserSockets?: (userId: string) => void): Promise<void> {
  await writeUser(userId, () =>
    UserModel.updateOne({ _id: userId }, until ? { $set: { suspendedUntil: until } } : { $unset: { suspendedUntil: 1 } }).exec(),
  );
  if (until) closeUserSockets?.(userId);
}

/** What a suspended member is told when they try to sign in. */
export function suspendedNotice(until: Date, locale: Locale): { key: string; vars?: Record<string, string> } {
  if (until.getTime() >= FOREVER.getTime()) return { key: 'moderation.suspended.forGood' };
  return { key: 'moderation.suspended.until', vars: { date: formatDate(locale, until) } };
}
