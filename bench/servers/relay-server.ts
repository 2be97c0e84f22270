// The bare relay: Parley's socket events (adduser, privatemsg with its ack, sendback)
// with nothing behind them — no session, no checks beyond shapes, no storage. What it
// does per message is the floor under what Parley can do per message.
import http from 'node:http';
import { Server } from 'socket.io';
import { listenPort, serveUnderBench } from './child-hooks.ts';

const roomOf = (userId: string) => `user:${userId}`;

let counter = 0;
// Shaped like a MongoDB ObjectId so payload sizes match what Parley sends.
const nextMessageId = () => (++counter).toString(16).padStart(24, '0');

const httpServer = http.createServer((req, res) => {
  res.writeHead(req.url === '/healthz' ? 200 : 404, { 'content-type': 'text/plain' }).end();
});
const io = new Server(httpServer, { serveClient: false, maxHttpBufferSize: 32 * 1024 });

io.on('connection', (socket) => {
  let self: string | undefined;

  socket.on('adduser', (userId: unknown, ack: unknown) => {
    const ok = typeof userId === 'string' && userId.length > 0 && self === undefined;
    if (ok) {
      self = userId;
      void socket.join(roomOf(userId));
    }
    if (typeof ack === 'function') ack(ok);
  });

  socket.on('deleteuser', (userId: unknown, ack: unknown) => {
    const ok = userId === self && self !== undefined;
    if (ok) void socket.leave(roomOf(self!));
    if (typeof ack === 'function') ack(ok);
  });

  socket.on('privatemsg', (payload: unknown, ack: unknown) => {
    if (typeof ack !== 'function') return;
    const { to_user: to, content } = (payload ?? {}) as { to_user?: unknown; content?: unknown };
    if (!self || typeof to !== 'string' || typeof content !== 'string') {
      ack({ ok: false, error: 'adduser first, then send { to_user, content }' });
      return;
    }
    const message = { _id: nextMessageId(), from: self, to, content, createdAt: new Date().toISOString() };
    const online = (io.sockets.adapter.rooms.get(roomOf(to))?.size ?? 0) > 0;
    io.to(roomOf(to)).emit('sendback', { content, friend: { _id: self, username: self, avatar: '' }, message });
    // The sender's other tabs see their own message too, as in Parley.
    socket.to(roomOf(self)).emit('sendback', { content, friend: { _id: to, username: to, avatar: '' }, message });
    ack({ ok: true, online, message });
  });
});

httpServer.listen(listenPort(), '127.0.0.1');
serveUnderBench(async () => {
  await io.close();
});
