// With SMTP_URL unset, mail is written as .eml files under DATA_DIR/mail/.
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { uniqueAddress, waitFor } from '../support/mail.ts';
import { useTestServer } from '../support/server.ts';
import { csrfToken, registerUser } from '../support/users.ts';

const server = useTestServer({ MAIL_POLL_MS: '100' });

describe('mail without SMTP_URL', () => {
  it('writes .eml files under DATA_DIR/mail when SMTP_URL is unset', async () => {
    const fileServer = server.current;
    {
      const member = await registerUser(fileServer.url);
      const _csrf = await csrfToken(member.agent, '/settings');
      const address = uniqueAddress('file');
      await member.agent.post('/settings/email').type('form').send({ email: address, _csrf });
      const dir = path.join(fileServer.dataDir, 'mail');
      const files = await waitFor(async () => {
        const names = await fs.readdir(dir).catch(() => []);
        return names.length > 0 ? names : undefined;
      });
      expect(files[0]).toMatch(/\.eml$/);
      const raw = await fs.readFile(path.join(dir, files[0]!), 'utf8');
      expect(raw).toContain(`To: ${address}`);
      expect(raw).toContain('Subject: Confirm your e-mail address on Parley');
    }
  });
});
