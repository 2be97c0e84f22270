// Blocking takes effect on presence at once, on every process: the blocked member's open
// pages stop hearing the blocker come and go, and their dot goes, with no page reload.
import { beforeAll, describe, expect, it } from 'vitest';
import type { WatchPresenceAck } from '../../src/realtime/events.ts';
import { useTwoProcesses, type AppProcess } from '../support/app-process.ts';
import { sendTo } from '../support/messaging.ts';
import { collect, connectAs, emitAck, nextEvent } from '../support/sockets.ts';
import { registerUser } from '../support/users.ts';

const processes = useTwoProcesses('presblock', {
  SESSION_SECRET: 'presence-block-test-secret-presence-block',
  REGISTER_RATE: '10000/1m',
  READ_CACHE_MS: '60000',
});
let a: AppProcess;
let b: AppProcess;
beforeAll(() => {
  ({ a, b } = processes);
});

describe('presence after a block', () => {
  it('stops at once on every process: the blocked member\u2019s page sees the blocker go offline and hears no more of them', async () => {
    const [ivy, ned] = await Promise.all([registerUser(a.url), registerUser(b.url)]);
    const ivyOnA = await connectAs(a.url, ivy);
    const nedPage = await connectAs(b.url, ned);
    await sendTo(nedPage, ivy, 'hello');
    expect(await emitAck<WatchPresenceAck>(nedPage, 'watchpresence', [ivy.id])).toEqual({ ok: true, online: [ivy.id] });

    // Ivy blocks ned on process A; ned's page is on process B.
    const dotGone = nextEvent(nedPage, 'presence', (p) => p.user === ivy.id && !p.online);
    const profile = (await ivy.agent.get(`/users/${ned.username}`)).text;
    const form = /action="(\/users\/[^"]+\/block)"[\s\S]*?name="_csrf" value="([^"]+)"/.exec(profile)!;
    expect((await ivy.agent.post(form[1]!).type('form').send({ _csrf: form[2], back: 'profile' })).status).toBe(303);
    expect(await dotGone).toEqual({ user: ivy.id, online: false });

    // Ivy comes back on ned's own process (where an event would reach the page first of all).
    const events = collect(nedPage, 'presence');
    ivyOnA.disconnect();
    await connectAs(b.url, ivy);
    // A round trip on ned's connection after ivy's socket joined: any event would be here by now.
    await emitAck(nedPage, 'adduser', ned.id);
    expect(events).toEqual([]);
  });
});
