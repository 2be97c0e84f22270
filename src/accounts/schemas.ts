import { z } from 'zod';
import { neutraliseText } from '../text/safety.ts';
import { hasSafeScripts, isReservedUsername } from './username-rules.ts';

/** 2–24 letters (any script, Chinese included), digits, `_` and `-`. */
export const USERNAME_PATTERN = /^[\p{L}\p{N}_-]{2,24}$/u;

// Messages are translation keys; the routes translate them for the form.
export const usernameField = z
  .string({ error: 'accounts.error.usernameRequired' })
  // The same rule as all members' text (text/safety.ts): hidden characters go first.
  .transform((v) => neutraliseText(v).trim())
  .pipe(z.string().min(1, 'accounts.error.usernameRequired'))
  .refine((v) => [...v].length >= 2 && [...v].length <= 24, 'accounts.error.usernameLength')
  .refine((v) => USERNAME_PATTERN.test(v), 'accounts.error.usernameChars')
  // Look-alikes (username-rules.ts); a look-alike of an existing name is refused at registration.
  .refine(hasSafeScripts, 'safety.username.mixedScripts')
  .refine((v) => !isReservedUsername(v), 'safety.username.reserved');

export const passwordField = z
  .string({ error: 'accounts.error.passwordRequired' })
  .min(8, 'accounts.error.passwordLength')
  .max(200, 'accounts.error.passwordTooLong');

/** An e-mail address; blank means none (it is optional wherever it is asked for). */
export const emailField = z
  .string({ error: 'settings.error.emailInvalid' })
  .trim()
  .max(254, 'settings.error.emailInvalid')
  .pipe(z.email({ error: 'settings.error.emailInvalid' }));
const optionalEmail = z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), emailField.optional());

export const registerSchema = z.object({ username: usernameField, password: passwordField, email: optionalEmail });
export const loginSchema = z.object({
  username: z.string({ error: 'accounts.error.usernameRequired' }).transform((v) => neutraliseText(v).trim()).pipe(z.string().min(1, 'accounts.error.usernameRequired').max(64, 'accounts.error.badLogin')),
  password: z.string({ error: 'accounts.error.passwordRequired' }).min(1, 'accounts.error.passwordRequired').max(200, 'accounts.error.badLogin'),
});
