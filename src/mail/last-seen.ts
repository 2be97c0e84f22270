// When a member last had a socket open, on any process: what the unread-message mail
// asks before it writes ("has the member been here since the message came?"). Each
// process remembers its own sockets' comings and goings in memory and answers for them
// through Socket.IO's adapter, like "who is online" (realtime/io.ts): no database write
// per page view. A process that restarts forgets; its members' sockets reconnect to a
// process that then remembers them.
import type { IoServer, SocketFeature } from '../realtime/io.ts';

/** How long an answer from the other processes may take; one that does not answer counts as "seen now" (no mail this turn). */
const PEER_TIMEOUT_MS = 2000;

export interface LastSeen {
  /** Registers on every connected socket. */
  feature: SocketFeature;
  /** Epoch ms of each member's latest socket anywhere (Date.now() while one is open); absent: none remembered. */
  lastSeen(userIds: string[]): Promise<Map<string, number>>;
}

export function createLastSeen(io: IoServer, options: { forgetAfterMs: number; withPeers: boolean }): LastSeen {
  const open = new Map<string, number>();
  const seen = new Map<string, number>();
  const local = (userId: string) => ((open.get(userId) ?? 0) > 0 ? Date.now() : seen.get(userId));

  // Bounded by the members seen within the longest time the mail rules look back.
  const sweep = setInterval(() => {
    const oldest = Date.now() - options.forgetAfterMs;
    for (const [userId, at] of seen) if (at < oldest && !open.has(userId)) seen.delete(userId);
  }, Math.max(1000, Math.min(options.forgetAfterMs, 60_000)));
  sweep.unref();
  io.httpServer?.once('close', () => clearInterval(sweep));

  io.on('lastSeen', (userIds, ack) => {
    if (typeof ack !== 'function' || !Array.isArray(userIds)) return;
    const answer: Record<string, number> = {};
    for (const id of userIds) {
      const at = typeof id === 'string' ? local(id) : undefined;
      if (at !== undefined) answer[id] = at;
    }
    ack(answer);
  });

  return {
    feature(socket) {
      const { userId } = socket.data;
      open.set(userId, (open.get(userId) ?? 0) + 1);
      seen.set(userId, Date.now());
      socket.on('disconnect', () => {
        const left = (open.get(userId) ?? 1) - 1;
        if (left > 0) open.set(userId, left);
        else open.delete(userId);
        seen.set(userId, Date.now());
      });
    },
    async lastSeen(userIds) {
      const result = new Map<string, number>();
      const merge = (id: string, at: number | undefined) => {
        if (typeof at === 'number' && at > (result.get(id) ?? -Infinity)) result.set(id, at);
      };
      for (const id of userIds) merge(id, local(id));
      if (!options.withPeers) return result;
      try {
        let timer: NodeJS.Timeout | undefined;
        // The adapter times out a process that does not answer; this, a Redis that does not answer at all.
        const gaveUp = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no answer')), PEER_TIMEOUT_MS + 500)));
        const answers = await Promise.race([io.serverSideEmitWithAck('lastSeen', userIds), gaveUp]).finally(() => clearTimeout(timer));
        for (const answer of answers as Record<string, number>[]) for (const id of userIds) merge(id, answer?.[id]);
      } catch {
        // Not every process answered: assume the members were here, and ask again next turn.
        for (const id of userIds) result.set(id, Date.now());
      }
      return result;
    },
  };
}
