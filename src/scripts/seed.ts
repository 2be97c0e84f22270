// `npm run seed`: fills an EMPTY database with a few members (alice an admin, bob a
// moderator), boards, Markdown-formatted posts and replies, so a newcomer has something
// to look at. It starts the database exactly as the app does
// (same settings, same DATA_DIR or MONGODB_URI) and writes through the same services.
// Every demo member's password is DEMO_PASSWORD.
import { registerUser } from '../accounts/service.ts';
import { UserModel } from '../accounts/user-model.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { openDatabase } from '../db/database.ts';
import { createBoard, type BoardView } from '../forum/boards.ts';
import { migrateForum } from '../forum/migrate.ts';
import { createForumService, type Author } from '../forum/service.ts';
import { setRole } from '../moderation/roles.ts';
import { createLogger } from '../log.ts';
import { embeddedDatabaseInUse } from './script-database.ts';

const DEMO_PASSWORD = 'parley-demo';
const DEMO_USERNAMES = ['alice', 'bob', '小明'] as const;

/** Boards besides the default one (board: undefined). */
const BOARDS = [
  { slug: 'realtime', name: 'Real-time', description: 'Sockets, rooms and live messages' },
  { slug: 'chat', name: '闲聊 · Chit-chat', description: 'Anything goes · 随便聊聊' },
];

/** Written in the order they should appear oldest first; replies by [author index, text]. */
const THREADS: { author: number; board?: string; title: string; body: string; replies: [number, string][] }[] = [
  {
    author: 0,
    title: 'Welcome to Parley 👋',
    body: [
      'Hello everyone!',
      'This is a small forum with **private messages that arrive in real time**.',
      '',
      '- Click anyone’s avatar to send them a message.',
      '- Posts and replies take *Markdown*: use the **Preview** tab to see how yours will look.',
      '- Press **Quote** under a reply to answer it.',
      '',
      'The source of the original idea: [Socket.IO docs](https://socket.io/docs/v4/)',
    ].join('\n'),
    replies: [
      [1, 'Thanks Alice, glad to be here.'],
      [2, '大家好！我是小明，很高兴认识大家。'],
    ],
  },
  {
    author: 2,
    board: 'realtime',
    title: '用 Socket.IO 实现实时私信',
    body: [
      '在帖子详情页面，单击用户头像，可以发送私信给该用户。',
      '',
      '> 如果该用户在线，私信会实时送达；不在线的话，消息会保存下来，等他上线再看。',
      '',
      '服务器端的关键一行：',
      '',
      '```js',
      "io.to(`user:${userId}`).emit('sendback', message);",
      '```',
      '',
      '参考：https://socket.io/zh-CN/docs/v4/rooms/',
    ].join('\n'),
    replies: [
      [0, 'Nice summary! Rooms per user are the trick: every tab joins the same room.'],
      [1, '离线消息也能收到吗？'],
      [2, '可以，上线后在「私信」页面就能看到。'],
    ],
  },
  {
    author: 1,
    board: 'realtime',
    title: 'Favourite keyboard shortcuts?',
    body: 'In the chat box, `Enter` sends and `Shift+Enter` starts a new line.\nWhat else would you like to see?',
    replies: [[0, 'Esc to close the chat dialog would be handy.']],
  },
  {
    author: 0,
    title: 'A long thread, to see the pages of replies',
    body: 'Replies come twenty to a page. Keep counting!',
    replies: Array.from({ length: 26 }, (_, i): [number, string] => [i % 3, `${i + 1}`]),
  },
  {
    author: 2,
    board: 'chat',
    title: '周末去哪儿玩？',
    body: '天气转暖了，有没有推荐的郊游地点？\n最好是坐地铁就能到的。',
    replies: [
      [1, 'The botanical garden is lovely this time of year.'],
      [0, '+1 for the botanical garden.'],
    ],
  },
];

async function seed(config: Config): Promise<number> {
  if (embeddedDatabaseInUse(config)) {
    console.error(`Parley seems to be running on ${config.dataDir}. Stop it first, then run npm run seed again.`);
    return 1;
  }
  const log = createLogger(config);
  const db = await openDatabase(config, log);
  try {
    if (await UserModel.exists({}).exec()) {
      console.error('This database already has members, so the demo data was not added (seed only fills an empty database).');
      return 1;
    }
    await migrateForum(log);
    const members: Author[] = [];
    for (const username of DEMO_USERNAMES) {
      const user = await registerUser(username, DEMO_PASSWORD);
      members.push({ id: user._id.toString(), username });
    }
    await setRole(members[0]!.id, 'admin');
    await setRole(members[1]!.id, 'moderator');
    const boards = new Map<string, BoardView>();
    for (const board of BOARDS) boards.set(board.slug, await createBoard(board));
    const forum = createForumService({ readCacheMs: 0, log });
    for (const thread of THREADS) {
      const postId = await forum.createPost(members[thread.author]!, { ...thread, board: thread.board ? boards.get(thread.board)!._id : undefined });
      for (const [author, body] of thread.replies) await forum.addReply(members[author]!, postId, body);
    }
    console.log(
      [
        `Added ${members.length} members, ${BOARDS.length + 1} boards and ${THREADS.length} posts.`,
        `Sign in as any of ${DEMO_USERNAMES.join(', ')} with the password "${DEMO_PASSWORD}".`,
        `alice is an admin (/admin), bob a moderator (/moderation).`,
      ].join('\n'),
    );
    return 0;
  } finally {
    await db.close();
  }
}

try {
  process.exitCode = await seed(loadConfig());
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exitCode = 1;
}
