// Single-use tokens mailed to a member: a password reset, an address confirmation.
// Only the SHA-256 of a token is stored, as the document's `_id`: someone who reads the
// database (a backup, a leak) finds no link that works, and a lookup is an exact `_id`
// read on both engines. Using a token deletes it; the one request whose delete removed
// the document is the one that uses it, so a token works once even when two requests race.
import crypto from 'node:crypto';
import mongoose, { Schema } from 'mongoose';

export type TokenPurpose = 'reset' | 'confirm';

const mailTokenSchema = new Schema(
  {
    _id: { type: String, required: true }, // sha256(token), hex
    purpose: { type: String, required: true },
    userId: { type: String, required: true },
    /** The member's authVersion when it was made: a password change since voids a reset token. */
    authVersion: { type: Number, required: true, default: 0 },
    /** The address being confirmed. */
    email: { type: String },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'mail_tokens', versionKey: false },
);
// For a sweep of expired tokens on MongoDB (FerretDB has no TTL indexes; a used token is deleted at once).
mailTokenSchema.index({ expiresAt: 1 });
export const MailTokenModel = mongoose.model('MailToken', mailTokenSchema);

export type MailToken = { purpose: TokenPurpose; userId: string; authVersion: number; email?: string | null; expiresAt: Date };

export function tokenHash(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}

/** 256 random bits, URL-safe. */
export async function createToken(fields: Omit<MailToken, 'expiresAt'>, ttlMs: number): Promise<string> {
  const token = crypto.randomBytes(32).toString('base64url');
  await MailTokenModel.create({ _id: tokenHash(token), ...fields, expiresAt: new Date(Date.now() + ttlMs) });
  return token;
}

const TOKEN_SHAPE = /^[\w-]{43}$/;

/** The token's record if it is live and for this purpose; nothing is used up. */
export async function peekToken(token: unknown, purpose: TokenPurpose): Promise<MailToken | null> {
  if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return null;
  const doc = await MailTokenModel.findById(tokenHash(token)).lean<MailToken>().exec();
  if (!doc || doc.purpose !== purpose || doc.expiresAt.getTime() <= Date.now()) return null;
  return doc;
}

/** Uses the token up: its record, once, to the one caller whose delete removed it. */
export async function consumeToken(token: unknown, purpose: TokenPurpose): Promise<MailToken | null> {
  const doc = await peekToken(token, purpose);
  if (!doc) return null;
  const { deletedCount } = await MailTokenModel.deleteOne({ _id: tokenHash(token as string) }).exec();
  return deletedCount === 1 ? doc : null;
}

/**
 * Deletes tokens past their time (a used one is deleted at once; these were never used).
 * FerretDB has no TTL indexes, so each process does it now and then; the collection holds
 * only the links of the last day, so the scan FerretDB makes of it stays small.
 */
export async function sweepExpiredTokens(now = new Date()): Promise<number> {
  const { deletedCount } = await MailTokenModel.deleteMany({ expiresAt: { $lte: now } }).exec();
  return deletedCount;
}

/** Sweeps every `everyMs` until the returned function is called. */
export function sweepTokensEvery(everyMs: number, onError: (err: unknown) => void): () => void {
  const timer = setInterval(() => void sweepExpiredTokens().catch(onError), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
