// An SMTP server that accepts connections and then never says a word: the mail worker
// waits on it, and nothing else does. Messages are sent and acknowledged, pages answer,
// while the mail's attempt is still hanging; shutdown does not wait for it either.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailClaimModel, MailJobModel } from '../../src/mail/models.ts';
import { uniqueAddress, waitFor } from '../support/mail.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { connectAs, emitAck } from '../support/sockets.ts';
import { csrfToken, registerUser } from '../support/users.ts';

let silent: net.Server;
const held: net.Socket[] = [];
let server: TestServer;

beforeAll(async () => {
  silent = net.createServer((socket) => held.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as AddressInfo;
  // Long enough that the attempt is still hanging when the test ends.
  server = await startTestServer({ SMTP_URL: `smtp://127.0.0.1:${port}`, SMTP_TIMEOUT_MS: '120000', MAIL_POLL_MS: '100', SHUTDOWN_TIMEOUT_MS: '2000' });
});

afterAll(async () => {
  await server?.close();
  held.forEach((socket) => socket.destroy());
  await new Promise((resolve) => silent.close(resolve));
});

describe('a mail server that hangs', () => {
  it('holds up only the mail: sends are acknowledged and pages answer while the attempt hangs', async () => {
    const member = await registerUser(server.url);
    const _csrf = await csrfToken(member.agent, '/settings');
    await member.agent.post('/settings/email').type('form').send({ email: uniqueAddress('slow'), _csrf });
    // The worker has claimed the confirmation mail and is waiting on the silent server.
    const job = await waitFor(async () => MailJobModel.findOne({ kind: 'confirm' }).lean());
    await waitFor(async () => (await MailClaimModel.countDocuments({ _id: `${job._id}#0` })) === 1 && held.length > 0);

    const friend = await registerUser(server.url);
    const socket = await connectAs(server.url, member);
    for (let i = 0; i < 20; i++) {
      const ack = await emitAck<{ ok: boolean }>(socket, 'privatemsg', { to_user: friend.id, content: `still here ${i}` });
      expect(ack.ok).toBe(true);
    }
    expect((await friend.agent.get(`/messages/${encodeURIComponent(member.username)}`)).text).toContain('still here 19');
    // Still hanging: not sent, not failed.
    expect(await MailJobModel.findById(job._id).lean()).toMatchObject({ attempts: 0 });
  });
});
