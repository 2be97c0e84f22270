// Usernames that look like another member's, or like the people who run the forum, are
// refused (Unicode TR 39: mixed scripts and skeletons; src/accounts/username-rules.ts).
import crypto from 'node:crypto';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import mongoose from 'mongoose';
import { backfillUsernameSkeletons } from '../../src/accounts/skeleton-backfill.ts';
import { UserModel, UsernameModel, usernameKey } from '../../src/accounts/user-model.ts';
import { useTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { csrfToken, registerUser } from '../support/users.ts';

const running = useTestServer();
let server: TestServer;
beforeAll(() => {
  server = running.current;
});

const MIXED = 'Please write your username in one script';
const CONFUSABLE = 'looks too much like an existing member';
const RESERVED = 'That username is reserved';

async function register(username: string) {
  const agent = request.agent(server.url);
  const _csrf = await csrfToken(agent, '/register');
  return agent.post('/register').type('form').send({ username, password: 'correct horse battery', _csrf });
}

const stored = async (username: string) => (await UsernameModel.exists({ _id: usernameKey(username) })) !== null;

/** Latin letters that have a Cyrillic twin, and the twins. */
const LATIN = 'aceopxy';
const CYRILLIC = 'асеорху';
function twins(length = 10): { latin: string; cyrillic: string } {
  const picks = [...crypto.randomBytes(length)].map((b) => b % LATIN.length);
  return { latin: picks.map((i) => LATIN[i]).join(''), cyrillic: picks.map((i) => CYRILLIC[i]).join('') };
}

describe('look-alike usernames', () => {
  it('refuses a name that mixes scripts confusably (a Cyrillic ѕ among Latin letters), storing nothing', async () => {
    const name = `ѕec${crypto.randomBytes(3).toString('hex')}`;
    const res = await register(name);
    expect(res.status).toBe(400);
    expect(res.text).toContain(MIXED);
    expect(await stored(name)).toBe(false);
  });

  it('refuses a look-alike of an existing name in another script, or with rn for m', async () => {
    const { latin, cyrillic } = twins();
    await registerUser(server.url, latin);
    const res = await register(cyrillic);
    expect(res.status).toBe(409);
    expect(res.text).toContain(CONFUSABLE);
    expect(await stored(cyrillic)).toBe(false);

    const tail = crypto.randomBytes(3).toString('hex');
    await registerUser(server.url, `m${tail}`);
    expect((await register(`rn${tail}`)).text).toContain(CONFUSABLE);
    // Released again: the refused name's claim does not linger.
    expect(await stored(`rn${tail}`)).toBe(false);
  });

  it('keeps Chinese names, and Latin mixed with Chinese, working', async () => {
    const han = () => String.fromCodePoint(0x4e00 + crypto.randomInt(0x5000));
    const chinese = `${han()}${han()}${han()}`;
    const mixed = `小明${crypto.randomBytes(2).toString('hex')}`;
    for (const name of [chinese, mixed]) {
      const user = await registerUser(server.url, name);
      expect((await user.agent.get(`/users/${encodeURIComponent(name)}`)).status).toBe(200);
    }
  });

  it.each(['admin', 'Moderator', 'parley', 'SYSTEM', 'root', 'support', 'admin_2', 'r00t', 'Administrator', 'staff'])(
    'reserves %s',
    async (name) => {
      const res = await register(name);
      expect(res.status).toBe(400);
      expect(res.text).toContain(RESERVED);
      expect(await stored(name)).toBe(false);
    },
  );

  it('reserves a look-alike of a reserved name written wholly in another script', async () => {
    // Cyrillic Р, А, г, І, Е, Г: one script, and it reads "parley".
    const res = await register('РАгІЕГ');
    expect(res.status).toBe(400);
    expect(res.text).toContain(RESERVED);
  });

  it('checks the names of members who registered before skeletons were kept', async () => {
    const { latin, cyrillic } = twins();
    // A member stored the way registration did before: name and user, no skeleton.
    const userId = new mongoose.Types.ObjectId();
    await UsernameModel.create({ _id: usernameKey(latin), userId });
    await UserModel.create({ _id: userId, username: latin, passwordHash: 'scrypt$legacy' });
    await mongoose.connection.collection('migrations').deleteOne({ _id: 'username-skeletons' as never });
    await backfillUsernameSkeletons();
    const res = await register(cyrillic);
    expect(res.status).toBe(409);
    expect(res.text).toContain(CONFUSABLE);
  });
});
