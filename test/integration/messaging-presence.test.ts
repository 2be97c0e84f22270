// Live online dots (watchpresence / presence): a page says whom it shows, and hears when
// any of them comes or goes, except members who blocked the viewer.
import { beforeAll, describe, expect, it } from 'vitest';
import { setBlocked } from '../../src/messaging/blocking.ts';
import type { PresencePayload, WatchPresenceAck } from '../../src/realtime/events.ts';
import { useTestServer } from '../support/messaging.ts';
import type { TestServer } from '../support/server.ts';
import { collect, connectAs, emitAck, nextEvent } from '../support/sockets.ts';
import { registerUser } from '../support/users.ts';

const running = useTestServer();
let server: TestServer;
beforeAll(() => {
  server = running.current;
});

describe('live presence', () => {
  it('tells a watching page when a member comes online and when their last tab goes', async () => {
    const [viewer, friend] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    // A page follows only members its reader has a conversation with.
    expect(await server.messaging.send({ id: friend.id, username: friend.username }, { to_user: viewer.id, content: 'hi' })).toMatchObject({ ok: true });
    const page = await connectAs(server.url, viewer);
    expect(await emitAck<WatchPresenceAck>(page, 'watchpresence', [friend.id])).toEqual({ ok: true, online: [] });

    const cameOnline = nextEvent(page, 'presence', (p) => p.user === friend.id);
    const tab1 = await connectAs(server.url, friend);
    expect(await cameOnline).toEqual({ user: friend.id, online: true });

    const events = collect(page, 'presence');
    const tab2 = await connectAs(server.url, friend);
    // One tab of two closing changes nothing; the last one does.
    tab1.disconnect();
    const wentOffline = nextEvent(page, 'presence', (p) => p.user === friend.id && !p.online);
    tab2.disconnect();
    expect(await wentOffline).toEqual({ user: friend.id, online: false });
    expect(events.filter((e: PresencePayload) => e.user === friend.id)).toEqual([{ user: friend.id, online: false }]);
    // Asked again, the answer agrees.
    expect(await emitAck<WatchPresenceAck>(page, 'watchpresence', [friend.id])).toEqual({ ok: true, online: [] });
  });

  it('says nothing about a member who has blocked the viewer', async () => {
    const [viewer, blocker] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    await setBlocked(blocker.id, viewer.id, true);
    await server.messaging.markBlockedBy(viewer.id, blocker.id, true);
    const blockerTab = await connectAs(server.url, blocker);
    const page = await connectAs(server.url, viewer);
    const events = collect(page, 'presence');
    expect(await emitAck<WatchPresenceAck>(page, 'watchpresence', [blocker.id])).toEqual({ ok: true, online: [] });
    blockerTab.disconnect();
    await connectAs(server.url, blocker);
    // A round trip after the blocker came and went: any event would have arrived first.
    await emitAck(page, 'watchpresence', [blocker.id]);
    expect(events).toEqual([]);
  });

  it('refuses a list that is not member ids, or too long, with a clear error', async () => {
    const viewer = await registerUser(server.url);
    const page = await connectAs(server.url, viewer);
    for (const payload of [null, 'abc', [{ $ne: 1 }], ['not-an-id'], Array.from({ length: 301 }, (_, i) => i.toString(16).padStart(24, '0'))]) {
      const ack = await emitAck<WatchPresenceAck>(page, 'watchpresence', payload);
      expect(ack, JSON.stringify(payload).slice(0, 40)).toMatchObject({ ok: false, code: 'invalid' });
    }
  });
});
