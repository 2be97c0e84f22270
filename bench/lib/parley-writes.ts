// The database ceiling with Parley's own writes: the messaging service's send(), in the
// bench process, with no sockets and no HTTP. What one message costs the engine is then
// exactly what it costs when it comes over a socket, without the transport around it.
import mongoose from 'mongoose';
import { UserModel } from '../../src/accounts/user-model.ts';
import { loadConfig } from '../../src/config.ts';
import { connectDatabase } from '../../src/db/database.ts';
import { createMessagingService } from '../../src/messaging/service.ts';
import { createMessagingStorage } from '../../src/messaging/storage.ts';
import { createLogger } from '../../src/log.ts';
import type { MessageWriteModel } from './message-writes.ts';

export const parleyMessageWrites: MessageWriteModel = {
  name: 'parley',
  describe:
    'Parley’s `send()` (src/messaging/service.ts) one at a time: the recipient read by `_id`, the batch journal (`insertOne`), ' +
    'the message (`insertMany`), then behind the acknowledgement the conversation, its history page and both inboxes ' +
    '(`bulkWrite`, coalesced per document with whatever else waits), the recipient’s inbox read for its unread count, and the journal removed; ' +
    'sends made while a batch is written share the next one',
  commandsPerMessage: 7,
  async open({ uri, dbName }) {
    await connectDatabase(uri, dbName);
    const config = loadConfig({ RATE_LIMITS: 'off', LOG_LEVEL: 'silent' });
    const storage = createMessagingStorage({ log: createLogger(config) });
    await storage.prepare();
    const service = createMessagingService({
      config,
      limiters: { message: { consume: async () => ({ ok: true }), reset: async () => undefined } },
      deliveries: { notify: () => undefined, whoIsOnline: async () => new Set() },
      store: storage.store,
      commit: storage.commit,
    });
    // The bench's message stream names its users by id: each is created on first sight.
    const users = new Map<string, Promise<unknown>>();
    const ensureUser = (id: string) => {
      let created = users.get(id);
      if (!created) {
        created = UserModel.create({ _id: id, username: `w${id.slice(-12)}`, passwordHash: 'unused' });
        users.set(id, created);
      }
      return created;
    };
    return {
      async writeOne(m) {
        await Promise.all([ensureUser(m.from), ensureUser(m.to)]);
        const result = await service.send({ id: m.from, username: `w${m.from.slice(-12)}` }, { to_user: m.to, content: m.content });
        if (!result.ok) throw new Error(`send refused: ${result.code} ${result.error}`);
      },
      close: async () => {
        await storage.views.flush(10_000);
        await mongoose.disconnect();
      },
    };
  },
};
