// A browser that has signed in to an account before is trusted a little more: a stranger
// guessing that account's password locks out strangers, not its owner. After a successful
// sign-in the browser keeps a cookie naming the account; later sign-ins from it count
// their failures against that browser alone rather than against the account. (OWASP's
// "device cookies" defence against lockout as denial of service.) The cookie is
// stateless: a random nonce and an HMAC over the account and nonce, under the session
// secret, so it cannot be made for an account without the server, and a copied cookie
// buys a guesser only its own, equally strict, limit.
import crypto from 'node:crypto';
import type { Request, Response } from 'express';
import { parse as parseCookies } from 'cookie';

export const DEVICE_COOKIE = 'parley.device';
const MAX_AGE_MS = 365 * 24 * 60 * 60 * 1000;

function mac(secret: string, accountKey: string, nonce: string): string {
  return crypto.createHmac('sha256', secret).update(`device:${accountKey}:${nonce}`).digest('base64url');
}

export function knownDevices(secret: string, options: { secure: boolean | 'auto' }) {
  return {
    /** The limiter key for this browser if it has signed in to `accountKey` before. */
    deviceKey(req: Request, accountKey: string): string | undefined {
      const value = parseCookies(req.headers.cookie ?? '')[DEVICE_COOKIE];
      const [nonce, signature] = value?.split('.') ?? [];
      if (!nonce || !signature || signature.length !== 43) return undefined;
      const expected = mac(secret, accountKey, nonce);
      return crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(expected)) ? `${accountKey}:${nonce}` : undefined;
    },
    /** After a successful sign-in: this browser now knows `accountKey`. */
    remember(req: Request, res: Response, accountKey: string): void {
      const nonce = crypto.randomBytes(12).toString('base64url');
      res.cookie(DEVICE_COOKIE, `${nonce}.${mac(secret, accountKey, nonce)}`, {
        httpOnly: true,
        sameSite: 'lax',
        secure: options.secure === 'auto' ? req.secure : options.secure,
        maxAge: MAX_AGE_MS,
        path: '/login',
      });
    },
  };
}
