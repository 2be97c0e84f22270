// Which failures count as "the database is away" (a 503 page) rather than a bug (a 500).
import { createRequire } from 'node:module';
import { MongoClient, MongoNetworkError, MongoNetworkTimeoutError, MongoServerError, MongoTopologyClosedError } from 'mongodb';
import mongoose from 'mongoose';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.ts';
import { isDatabaseUnavailable } from '../../src/db/errors.ts';

// What a request waiting for a pooled connection gets when the driver notices an outage.
// The driver makes these itself and does not export them; its own module has them.
const poolErrors = createRequire(import.meta.url)('mongodb/lib/cmap/errors.js') as {
  PoolClearedError: new (pool: { address: string }) => Error;
  PoolClearedOnNetworkError: new (pool: { address: string }) => Error;
};
const pool = { address: '127.0.0.1:27017' };

/** The errors the driver and Mongoose really give when nothing listens on the port. */
async function nobodyListening(): Promise<{ driver: unknown; mongoose: unknown }> {
  const uri = `mongodb://127.0.0.1:${await freePort()}/x`;
  const options = { serverSelectionTimeoutMS: 200 };
  const client = new MongoClient(uri, options);
  const driver = await client.db().command({ ping: 1 }).catch((err: unknown) => err);
  await client.close();
  const connection = mongoose.createConnection(uri, options);
  const viaMongoose = await connection.asPromise().catch((err: unknown) => err);
  await connection.close().catch(() => undefined);
  return { driver, mongoose: viaMongoose };
}

describe('isDatabaseUnavailable', () => {
  it('says yes to what the driver and Mongoose throw when the server is not there', async () => {
    const errors = await nobodyListening();
    expect(errors.driver).toBeInstanceOf(Error);
    expect(errors.mongoose).toBeInstanceOf(Error);
    expect(isDatabaseUnavailable(errors.driver)).toBe(true);
    expect(isDatabaseUnavailable(errors.mongoose)).toBe(true);
  });

  it.each([
    ['a refused connection', new MongoNetworkError('connect ECONNREFUSED 127.0.0.1:27017')],
    ['a network timeout', new MongoNetworkTimeoutError('timed out')],
    ['a closed topology', new MongoTopologyClosedError()],
    ['a cleared pool', new poolErrors.PoolClearedError(pool)],
    ['a pool cleared by the monitor', new poolErrors.PoolClearedOnNetworkError(pool)],
  ])('says yes to %s', (_what, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  it.each([
    ['a duplicate key', new MongoServerError({ message: 'E11000 duplicate key', code: 11000 })],
    ['a validation error', new mongoose.Error.ValidationError()],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['an error merely named like one', Object.assign(new Error('x'), { name: 'MongoNetworkErrorish' })],
    ['null', null],
    ['a string', 'MongoNetworkError'],
  ])('says no to %s', (_what, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
  });
});
