// Hands a mail to the SMTP server named by SMTP_URL, or, without one, writes it as an
// .eml file under DATA_DIR/mail/ and logs its subject: `npm start` works with no mail
// server, and a newcomer can open what would have gone out.
import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';

export interface OutgoingMail {
  /** Becomes the Message-ID: the same job keeps it across retries, so a duplicate is recognisable. */
  id: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
  headers?: Record<string, string>;
}

export interface MailTransport {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
  /** Where mails go: 'smtp' or the directory of .eml files. */
  readonly target: string;
}

export function mailDirectory(dataDir: string): string {
  return path.join(dataDir, 'mail');
}

export function createMailTransport(config: Pick<Config, 'mail' | 'dataDir'>, log: Logger): MailTransport {
  const { smtpUrl, from, smtpTimeoutMs, publicUrl } = config.mail;
  const domain = new URL(publicUrl).hostname;
  const envelope = (mail: OutgoingMail) => ({
    from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    headers: mail.headers,
    messageId: `<${mail.id}@${domain}>`,
  });

  if (smtpUrl) {
    // One connection at a time, reused: a slow or dead server holds up only the mail worker.
    const smtp = nodemailer.createTransport({
      url: smtpUrl,
      pool: true,
      maxConnections: 1,
      connectionTimeout: smtpTimeoutMs,
      greetingTimeout: smtpTimeoutMs,
      socketTimeout: smtpTimeoutMs,
    } as never);
    return {
      target: 'smtp',
      async send(mail) {
        await smtp.sendMail(envelope(mail));
      },
      close: () => smtp.close(),
    };
  }

  const dir = mailDirectory(config.dataDir);
  const files = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    target: dir,
    async send(mail) {
      const info = (await files.sendMail(envelope(mail))) as unknown as { message: Buffer };
      await fs.mkdir(dir, { recursive: true });
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${mail.id.replace(/[^\w-]/g, '_')}.eml`;
      await fs.writeFile(path.join(dir, name), info.message);
      log.info({ to: mail.to, file: path.join(dir, name) }, `mail written (no SMTP_URL): ${mail.subject}`);
    },
    close: () => files.close(),
  };
}
