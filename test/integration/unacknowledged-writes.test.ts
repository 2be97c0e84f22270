// A `w: 0` write is a request the driver expects no reply to, and the driver does not
// match replies to requests: an engine that answers one puts the connection one reply
// behind, and every later command on it gets the previous command's answer. These tests
// hold the embedded engine (and the session store) to never letting that happen.
import { MongoClient } from 'mongodb';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseUri } from '../support/database.ts';
import { useTestServer } from '../support/server.ts';
import { registerUser } from '../support/users.ts';

describe('an unacknowledged write to the database', () => {
  let client: MongoClient;
  beforeAll(async () => {
    const uri = new URL(testDatabaseUri('unack'));
    // One connection, so the command after the w: 0 write is sure to share it.
    uri.searchParams.set('maxPoolSize', '1');
    client = await new MongoClient(uri.toString()).connect();
  });
  afterAll(async () => {
    await client.close();
  });

  it('leaves every following reply with its own request', async () => {
    const db = client.db();
    await db.collection('left').insertOne({ _id: 'left' as never, side: 'left' });
    await db.collection('right').insertOne({ _id: 'right' as never, side: 'right' });
    await db.collection('swept').insertMany([{ n: 1 }, { n: 2 }]);

    await db.collection('swept').deleteMany({}, { writeConcern: { w: 0 } });

    const answers: unknown[] = [];
    for (let i = 0; i < 6; i++) {
      answers.push(await db.collection('left').findOne({ _id: 'left' as never }));
      answers.push(await db.collection('right').findOne({ _id: 'right' as never }));
    }
    expect(answers.map((doc) => (doc as { side?: string } | null)?.side)).toEqual(
      Array.from({ length: 6 }, () => ['left', 'right']).flat(),
    );
    // The unacknowledged write still happened.
    await expect.poll(() => db.collection('swept').countDocuments()).toBe(0);
  });
});

describe('expired sessions swept while members load pages', () => {
  // A sweep every second (the least allowed), so the test spans several.
  const server = useTestServer({ SESSION_SWEEP_MS: '1000' });

  it('deletes expired sessions and never shows a member a page with another member\'s session', async () => {
    const alice = await registerUser(server.current.url);
    const bob = await registerUser(server.current.url);
    const sessions = server.current.db.connection.collection('sessions');
    const expired = { expires: new Date(Date.now() - 60_000), session: { cookie: {} } };

    const pagesSeenBy = async (member: typeof alice) => {
      const res = await request(server.current.url).get('/messages').set('Cookie', member.cookie);
      expect(res.status).toBe(200);
      return /data-current-username="([^"]*)"/.exec(res.text)?.[1];
    };

    // Two rounds, each across a sweep that found something to delete.
    for (const round of ['one', 'two']) {
      await sessions.insertOne({ _id: `expired-${round}` as never, ...expired });
      const seen: (string | undefined)[][] = [];
      await expect
        .poll(
          async () => {
            seen.push([await pagesSeenBy(alice), await pagesSeenBy(bob)]);
            return sessions.countDocuments({ _id: `expired-${round}` as never });
          },
          { timeout: 10_000, interval: 100 },
        )
        .toBe(0);
      for (let i = 0; i < 5; i++) seen.push([await pagesSeenBy(alice), await pagesSeenBy(bob)]);
      expect(new Set(seen.map(([a, b]) => `${a}|${b}`))).toEqual(new Set([`${alice.username}|${bob.username}`]));
    }
  });
});
