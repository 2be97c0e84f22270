// Mail for the rest of the app: the queue that sends it (queue.ts), the links it
// carries, and the signed one-click unsubscribe link (RFC 8058).
import crypto from 'node:crypto';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { createMailQueue, type MailQueue, type QueuedMail } from './queue.ts';
import { createMailTransport, type MailTransport } from './transport.ts';

export interface Mail {
  queue: MailQueue;
  transport: MailTransport;
  /** An absolute link into the app (PUBLIC_URL + path). */
  url(path: string): string;
  /** The member's own unsubscribe link: signed, so it works without signing in and for no one else. */
  unsubscribeUrl(userId: string): string;
  isUnsubscribeSignature(userId: string, signature: string): boolean;
  /** The headers of a mail a member may turn off with one click (List-Unsubscribe, RFC 2369 and 8058). */
  unsubscribeHeaders(userId: string): Record<string, string>;
  enqueue(mail: QueuedMail): Promise<void>;
}

export function createMail(deps: { config: Pick<Config, 'mail' | 'dataDir'>; log: Logger; secret: string; isDatabaseConnected?: () => boolean }): Mail {
  const { config, log } = deps;
  const transport = createMailTransport(config, log);
  const m = config.mail;
  const queue = createMailQueue({
    transport,
    log,
    pollMs: m.pollMs,
    retryBaseMs: m.retryBaseMs,
    retryMaxMs: m.retryMaxMs,
    maxAttempts: m.maxAttempts,
    // Well past one SMTP exchange at its longest (three timeouts: connect, greeting, data).
    leaseMs: 3 * m.smtpTimeoutMs + 60_000,
    isDatabaseConnected: deps.isDatabaseConnected,
  });
  // A key of its own, derived from the session secret: an unsubscribe signature is never a valid cookie signature.
  const key = crypto.createHmac('sha256', deps.secret).update('parley:unsubscribe').digest();
  const sign = (userId: string) => crypto.createHmac('sha256', key).update(userId).digest('base64url');
  const url = (path: string) => `${m.publicUrl}${path}`;
  const unsubscribeUrl = (userId: string) => url(`/mail/unsubscribe/${userId}/${sign(userId)}`);
  return {
    queue,
    transport,
    url,
    unsubscribeUrl,
    isUnsubscribeSignature(userId, signature) {
      const expected = Buffer.from(sign(userId));
      const given = Buffer.from(String(signature));
      return given.length === expected.length && crypto.timingSafeEqual(given, expected);
    },
    unsubscribeHeaders: (userId) => ({
      'List-Unsubscribe': `<${unsubscribeUrl(userId)}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    }),
    enqueue: (mail) => queue.enqueue(mail),
  };
}
