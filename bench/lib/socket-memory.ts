// Resident memory an idle connected socket costs a server: RSS of the server process
// before and after connecting N clients that announce themselves and then sit still.
// Same procedure for the relay and for Parley, so the two compare. One reading is noisy
// (V8 keeps heap it grew for the connection burst's garbage: one build read 26–42 KiB per
// socket), so the memory scenario takes the median of several, each from a fresh process.
import { ClientPool, type MessagingTarget } from './message-clients.ts';
import type { ChildServer } from './processes.ts';
import { sleep } from './stats.ts';

export interface SocketMemory {
  sockets: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  bytesPerSocket: number;
}

/** RSS once it stops moving (after a garbage collection), or after a few seconds regardless. */
async function settledRss(server: ChildServer): Promise<number> {
  await server.collectGarbage();
  let last = server.sample()?.rssBytes ?? Number.NaN;
  for (let i = 0; i < 15; i++) {
    await sleep(200);
    const now = server.sample()?.rssBytes ?? Number.NaN;
    if (Math.abs(now - last) <= last * 0.002) return now;
    last = now;
  }
  return last;
}

export async function measureSocketMemory(target: MessagingTarget, server: ChildServer, sockets: number): Promise<SocketMemory> {
  const users = await target.createUsers(sockets, `${target.name}-idle`);
  // A few connections first, so code paths loaded on first use are not charged to the sockets.
  const warm = new ClientPool(target.url);
  await warm.connect(users.slice(0, Math.min(10, users.length)));
  await warm.close();
  await sleep(300);

  const rssBeforeBytes = await settledRss(server);
  const pool = new ClientPool(target.url);
  try {
    await pool.connect(users);
    const rssAfterBytes = await settledRss(server);
    if (pool.unexpectedDisconnects > 0) throw new Error(`${pool.unexpectedDisconnects} idle sockets were disconnected`);
    return { sockets, rssBeforeBytes, rssAfterBytes, bytesPerSocket: (rssAfterBytes - rssBeforeBytes) / sockets };
  } finally {
    await pool.close();
  }
}
