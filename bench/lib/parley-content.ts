// What Parley's pages show under the bench: posts with replies, and a member's
// conversations. Written by the app's own code, so the stored shapes are exactly what
// the app writes: the forum service (in the bench process, on the fixture's database)
// for posts, replies and the home feed; real sockets for messages.
import mongoose from 'mongoose';
import { pino } from 'pino';
import { connectDatabase } from '../../src/db/database.ts';
import { createForumService } from '../../src/forum/service.ts';
import type { SendAck } from '../../src/realtime/events.ts';
import { ClientPool, type BenchUser, type ConnectedUser } from './message-clients.ts';

export interface ForumContent {
  /** The post with a full first page of replies (and more on a second). */
  busyPostId: string;
  posts: number;
}

const PARAGRAPH =
  'We tried the new layout on a small screen and the reply button moved below the fold. ' +
  'Does anyone know whether the sticky footer fixes that, or should we keep the old one for now?';

/** `posts` posts by several authors, a few replies on many, and `busyReplies` on the newest. */
export async function seedForum(
  database: { uri: string; name: string },
  authors: BenchUser[],
  counts: { posts: number; busyReplies: number },
): Promise<ForumContent> {
  await connectDatabase(database.uri, database.name);
  try {
    // No read cache: the seeding reads its own writes.
    const forum = createForumService({ readCacheMs: 0, log: pino({ level: 'warn' }) });
    const by = (i: number) => {
      const user = authors[i % authors.length]!;
      return { id: user.id, username: user.username };
    };
    let busyPostId = '';
    for (let i = 0; i < counts.posts; i++) {
      const id = await forum.createPost(by(i), {
        title: `Post ${i + 1}: what we learned moving the forum to a new host`,
        body: `${PARAGRAPH}\n\n${PARAGRAPH}`,
      });
      // Every tenth post has a short thread, so the home page shows reply counts.
      if (i % 10 === 0) {
        for (let r = 0; r < 3; r++) await forum.addReply(by(i + r + 1), id, PARAGRAPH);
      }
      busyPostId = id;
    }
    for (let r = 0; r < counts.busyReplies; r++) {
      await forum.addReply(by(r + 1), busyPostId, `Reply ${r + 1}. ${PARAGRAPH}`);
    }
    return { busyPostId, posts: counts.posts };
  } finally {
    await mongoose.disconnect();
  }
}

/**
 * Gives `member` one conversation with each of `others`, over real sockets: each other
 * writes `perConversation` messages and the member answers the first, so the inbox has
 * both read and unread conversations.
 */
export async function seedConversations(url: string, member: BenchUser, others: BenchUser[], perConversation: number): Promise<number> {
  const pool = new ClientPool(url);
  let sent = 0;
  try {
    const [me, ...them] = await pool.connect([member, ...others]);
    const send = async (from: ConnectedUser, to: BenchUser, content: string) => {
      const ack: SendAck = await from.socket.timeout(10_000).emitWithAck('privatemsg', { to_user: to.id, content, client_id: `seed-${++sent}` });
      if (!ack.ok) throw new Error(`seeding a message from ${from.user.username} to ${to.username}: ${ack.code} ${ack.error}`);
    };
    // Conversations one after another, so the inbox order is the order they were written.
    for (const other of them) {
      for (let m = 0; m < perConversation; m++) await send(other, member, `Message ${m + 1} from ${other.user.username}: are we still on for Thursday?`);
      await send(me!, other.user, 'Yes, see you there.');
    }
    return sent;
  } finally {
    await pool.close();
  }
}
