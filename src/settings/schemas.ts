import { z } from 'zod';
import { emailField, passwordField } from '../accounts/schemas.ts';
import { LOCALES } from '../i18n/index.ts';

// Messages are translation keys; the routes translate them for the form.
export const forgotSchema = z.object({ email: emailField });
export const resetSchema = z.object({ password: passwordField });
export const changePasswordSchema = z.object({
  current: z.string({ error: 'settings.error.currentRequired' }).min(1, 'settings.error.currentRequired').max(200, 'settings.error.currentWrong'),
  password: passwordField,
});
export const languageSchema = z.object({ locale: z.enum(LOCALES, { error: 'settings.error.language' }) });
export const emailSchema = z.object({ email: emailField });
export const notificationsSchema = z.object({ unreadMail: z.literal('on').optional() });
export const deleteSchema = z.object({
  password: z.string({ error: 'settings.error.currentRequired' }).min(1, 'settings.error.currentRequired').max(200, 'settings.error.currentWrong'),
});
