// A suspension on one process reaches every process at once: two app processes on one
// database and one Redis, each keeping members for a minute (READ_CACHE_MS), the member
// connected to both.
import { beforeAll, expect, it } from 'vitest';
import { useTwoProcesses, type AppProcess } from '../support/app-process.ts';
import { submit } from '../support/forum.ts';
import { giveRole } from '../support/roles.ts';
import { connectAs } from '../support/sockets.ts';
import { registerUser } from '../support/users.ts';

const processes = useTwoProcesses('modscale', {
  SESSION_SECRET: 'moderation-scale-secret-moderation-scale',
  REGISTER_RATE: '10000/1m',
  READ_CACHE_MS: '60000',
});
let a: AppProcess;
let b: AppProcess;
beforeAll(() => {
  ({ a, b } = processes);
});

it('closes the member’s sockets on every process and signs them out there, though each process kept a copy of them', async () => {
  const moderator = await registerUser(a.url);
  await giveRole(moderator, 'moderator');
  const member = await registerUser(b.url);
  // Both processes now hold the member (a page on each), and a socket on each.
  expect((await member.agent.get('/posts/new')).status).toBe(200);
  const [onA, onB] = await Promise.all([connectAs(a.url, member), connectAs(b.url, member)]);
  const closed = (socket: typeof onA) => new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
  const both = Promise.all([closed(onA), closed(onB)]);

  const res = await submit(moderator, '/moderation', '/moderation/suspend', { username: member.username, length: 'forever' });
  expect(res.status, res.text.slice(0, 300)).toBe(303);
  expect(await both).toEqual(['io server disconnect', 'io server disconnect']);
  // B's kept copy was dropped when A wrote the member: signed out there too.
  expect((await member.agent.get('/posts/new')).status).toBe(303);
});
