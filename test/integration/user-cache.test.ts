// Users kept per process for a moment (accounts/user-cache.ts).
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserReader } from '../../src/accounts/user-cache.ts';
import { UserModel } from '../../src/accounts/user-model.ts';
import { userWrittenElsewhere, writeUser } from '../../src/accounts/user-writes.ts';
import { connectDatabase } from '../../src/db/database.ts';
import { testDatabaseUri } from '../support/database.ts';

beforeAll(async () => {
  await connectDatabase(testDatabaseUri('signedin'));
});
afterAll(async () => {
  await mongoose.disconnect();
});

describe('the signed-in member, kept for a moment', () => {
  it("serves a copy until this process writes the member, and each request gets a document of its own", async () => {
    const id = new mongoose.Types.ObjectId();
    await UserModel.create({ _id: id, username: 'keeper', passwordHash: 'x' });
    const read = createUserReader(60_000);

    const first = await read(id.toString());
    expect(first?.username).toBe('keeper');
    // Another process's write: not seen until the copy expires.
    await UserModel.updateOne({ _id: id }, { $set: { blocked: ['a'] } });
    const second = await read(id.toString());
    expect([...(second?.blocked ?? [])]).toEqual([]);
    // A change made to one request's document stays there.
    second!.blocked.push('mutated');
    expect([...((await read(id.toString()))?.blocked ?? [])]).toEqual([]);

    // This process's own write drops the copy at once.
    await writeUser(id.toString(), () => UserModel.updateOne({ _id: id }, { $set: { blocked: ['a', 'b'] } }).exec());
    expect([...((await read(id.toString()))?.blocked ?? [])]).toEqual(['a', 'b']);
    expect(await read(new mongoose.Types.ObjectId().toString())).toBeNull();

    // Another process's write, once it says so (server.ts relays it through Redis), drops it too.
    await UserModel.updateOne({ _id: id }, { $set: { blocked: ['c'] } });
    expect([...((await read(id.toString()))?.blocked ?? [])]).toEqual(['a', 'b']);
    userWrittenElsewhere(id.toString());
    expect([...((await read(id.toString()))?.blocked ?? [])]).toEqual(['c']);
  });

  it('reads fresh every time with no cache time', async () => {
    const id = new mongoose.Types.ObjectId();
    await UserModel.create({ _id: id, username: 'fresh', passwordHash: 'x' });
    const read = createUserReader(0);
    await read(id.toString());
    await UserModel.updateOne({ _id: id }, { $set: { blocked: ['z'] } });
    expect([...((await read(id.toString()))?.blocked ?? [])]).toEqual(['z']);
  });
});
