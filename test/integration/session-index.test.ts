// Sessions are swept by their expiry: the sweep's filter has an index to walk (MongoDB),
// instead of a scan of every session per process per sweep.
import mongoose from 'mongoose';
import { describe, expect, it, vi } from 'vitest';
import { useTestServer } from '../support/server.ts';

useTestServer();

describe('the sessions collection', () => {
  it('has an index on expires, which the expiry sweep filters on', async () => {
    const sessions = mongoose.connection.collection('sessions');
    await vi.waitFor(async () => {
      const indexes = await sessions.indexes();
      expect(indexes.map((index) => index.key)).toContainEqual({ expires: 1 });
    });
  });
});
