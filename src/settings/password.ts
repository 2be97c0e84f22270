// Setting a member's password, from the settings page or a reset link. Either way every
// other session and socket of the member is signed out: authVersion goes up (sessions
// and sockets signed in under the old value are refused from their next request, see
// http/locals.ts and realtime/io.ts), and the open sockets are closed at once.
import { hashPassword } from '../accounts/passwords.ts';
import { UserModel, type UserDocument } from '../accounts/user-model.ts';
import { writeUser } from '../accounts/user-writes.ts';
import { composeMail } from '../mail/compose.ts';
import type { Mail } from '../mail/index.ts';
import { userLocale } from './email.ts';
import { consumeToken, createToken, tokenHash } from './tokens.ts';

export const RESET_TTL_MS = 60 * 60 * 1000;

/** Sets the password and returns the member's new authVersion. */
export async function setPassword(userId: string, password: string): Promise<number> {
  const passwordHash = await hashPassword(password);
  return writeUser(userId, async () => {
    const updated = await UserModel.findOneAndUpdate({ _id: userId }, { $set: { passwordHash }, $inc: { authVersion: 1 } }, { new: true })
      .lean<{ authVersion?: number }>()
      .exec();
    if (!updated) throw new Error(`user ${userId} vanished while setting a password`);
    return updated.authVersion ?? 0;
  });
}

/** Mails a reset link to the member's confirmed address. */
export async function mailResetLink(mail: Mail, user: UserDocument): Promise<void> {
  if (!user.email) return;
  const token = await createToken({ purpose: 'reset', userId: user._id.toString(), authVersion: user.authVersion ?? 0 }, RESET_TTL_MS);
  const composed = await composeMail('reset', userLocale(user), { username: user.username, resetUrl: mail.url(`/password/reset/${token}`) });
  await mail.enqueue({ id: `reset-${tokenHash(token).slice(0, 24)}`, kind: 'reset', to: user.email, ...composed });
}

/** Uses a reset token: the new password and authVersion, or null for a dead token. */
export async function resetPassword(token: unknown, password: string): Promise<{ userId: string; authVersion: number } | null> {
  const record = await consumeToken(token, 'reset');
  if (!record) return null;
  const user = await UserModel.findById(record.userId, { authVersion: 1 }).lean<{ authVersion?: number }>().exec();
  // A password change since the link was made voids it.
  if (!user || (user.authVersion ?? 0) !== record.authVersion) return null;
  return { userId: record.userId, authVersion: await setPassword(record.userId, password) };
}
