// A member's e-mail address: added or changed only through a link mailed to it, and
// unique across members. Like usernames (accounts/user-model.ts) an address is found
// through an index collection whose `_id` is the address's key: an exact `_id` read on
// FerretDB, and one member per address on both engines without a unique index.
import mongoose, { Schema } from 'mongoose';
import { UserModel, type UserDocument } from '../accounts/user-model.ts';
import { writeUser } from '../accounts/user-writes.ts';
import { isDuplicateKey } from '../db/errors.ts';
import { isLocale, type Locale } from '../i18n/index.ts';
import { composeMail } from '../mail/compose.ts';
import type { Mail } from '../mail/index.ts';
import { consumeToken, createToken, tokenHash } from './tokens.ts';

const emailSchema = new Schema(
  {
    _id: { type: String, required: true }, // emailKey(address)
    userId: { type: String, required: true },
  },
  { collection: 'emails', versionKey: false },
);
export const EmailModel = mongoose.model('Email', emailSchema);

const CONFIRM_TTL_MS = 24 * 60 * 60 * 1000;

/** The key an address is unique under: trimmed, lower-cased (mail providers ignore case in practice). */
export function emailKey(address: string): string {
  return address.trim().normalize('NFKC').toLowerCase();
}

export function userLocale(user: Pick<UserDocument, 'locale'>, fallback: Locale = 'en'): Locale {
  return isLocale(user.locale) ? user.locale : fallback;
}

/** The member whose confirmed address this is. */
export async function findUserByEmail(address: string): Promise<UserDocument | null> {
  const entry = await EmailModel.findById(emailKey(address)).lean().exec();
  if (!entry) return null;
  const user = await UserModel.findById(entry.userId).exec();
  // The index may outlive a change that failed half-way: the user's own field decides.
  return user && user.email && emailKey(user.email) === entry._id ? user : null;
}

/** Mails a confirmation link to `address`; the address is the member's once the link is opened. */
export async function requestEmailConfirmation(mail: Mail, user: UserDocument, address: string, locale: Locale): Promise<void> {
  const userId = user._id.toString();
  const token = await createToken({ purpose: 'confirm', userId, authVersion: user.authVersion ?? 0, email: address.trim() }, CONFIRM_TTL_MS);
  const composed = await composeMail('confirm', locale, { username: user.username, email: address.trim(), confirmUrl: mail.url(`/settings/email/confirm/${token}`) });
  await mail.enqueue({ id: `confirm-${tokenHash(token).slice(0, 24)}`, kind: 'confirm', to: address.trim(), ...composed });
}

export type ConfirmResult = { ok: true; userId: string; email: string } | { ok: false; reason: 'invalid' | 'taken' };

/** Opens a confirmation link: the address becomes the member's unless another member has it. */
export async function confirmEmail(token: unknown): Promise<ConfirmResult> {
  const record = await consumeToken(token, 'confirm');
  if (!record?.email) return { ok: false, reason: 'invalid' };
  const user = await UserModel.findById(record.userId).exec();
  if (!user) return { ok: false, reason: 'invalid' };
  const key = emailKey(record.email);
  try {
    await EmailModel.create({ _id: key, userId: record.userId });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const holder = await EmailModel.findById(key).lean().exec();
    if (holder?.userId !== record.userId) return { ok: false, reason: 'taken' };
  }
  const previous = user.email ? emailKey(user.email) : undefined;
  await writeUser(record.userId, () => UserModel.updateOne({ _id: record.userId }, { $set: { email: record.email } }).exec());
  if (previous && previous !== key) await EmailModel.deleteOne({ _id: previous, userId: record.userId }).exec();
  return { ok: true, userId: record.userId, email: record.email };
}

/** Frees the member's address (account deleted). */
export async function releaseEmail(user: UserDocument): Promise<void> {
  if (user.email) await EmailModel.deleteOne({ _id: emailKey(user.email), userId: user._id.toString() }).exec();
}
