// "about: <title>": a message sent with a post's id carries that post, as the server
// reads it, to both members, live and in history; a title sent by the client counts for nothing.
import { describe, expect, it } from 'vitest';
import type { MessageView } from '../../src/realtime/events.ts';
import { createPost } from '../support/forum.ts';
import { sendRaw, useTestServer } from '../support/messaging.ts';
import { connectAs, nextEvent } from '../support/sockets.ts';
import { registerUser } from '../support/users.ts';

const server = useTestServer({ LOG_LEVEL: 'silent' });

describe('a message about a post', () => {
  it('carries the post’s real title to both members, live and in history', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.current.url), registerUser(server.current.url)]);
    const postId = await createPost(bob, 'Selling my bike <b>cheap</b>');
    const aliceTab = await connectAs(server.current.url, alice);
    const bobTab = await connectAs(server.current.url, bob);
    const heard = nextEvent(bobTab, 'sendback');
    const ack = await sendRaw(aliceTab, { to_user: bob.id, content: 'Is it still for sale?', about: postId, title: 'forged title', about_title: 'forged' });
    expect(ack).toMatchObject({ ok: true, message: { about: { _id: postId, title: 'Selling my bike <b>cheap</b>' } } });
    expect((await heard).message.about).toEqual({ _id: postId, title: 'Selling my bike <b>cheap</b>' });

    for (const [viewer, other] of [[alice, bob], [bob, alice]] as const) {
      const res = await viewer.agent.get(`/messages/${encodeURIComponent(other.username)}/history`);
      expect((res.body.messages as MessageView[]).map((m) => m.about)).toEqual([{ _id: postId, title: 'Selling my bike <b>cheap</b>' }]);
      const page = await viewer.agent.get(`/messages/${encodeURIComponent(other.username)}`);
      expect(page.text).toContain(`href="/posts/${postId}">Selling my bike &lt;b&gt;cheap&lt;/b&gt;</a>`);
      expect(page.text).not.toContain('forged');
    }
    // The next message, sent without it, is about nothing.
    const next = await sendRaw(aliceTab, { to_user: bob.id, content: 'Thanks' });
    expect(next.ok && next.message.about).toBeUndefined();
  });

  it('refuses a post that does not exist or an id that is not one, and stores nothing', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.current.url), registerUser(server.current.url)]);
    const aliceTab = await connectAs(server.current.url, alice);
    expect(await sendRaw(aliceTab, { to_user: bob.id, content: 'hi', about: 'a'.repeat(24) })).toMatchObject({ ok: false, code: 'notFound', error: 'There is no post with that id.' });
    for (const about of ['abc', 5, ['x'], { $gt: '' }]) {
      expect(await sendRaw(aliceTab, { to_user: bob.id, content: 'hi', about })).toMatchObject({ ok: false, code: 'invalid', error: "about must be a post's 24-character id." });
    }
    const res = await alice.agent.get(`/messages/${encodeURIComponent(bob.username)}/history`);
    expect(res.body.messages).toEqual([]);
  });
});
