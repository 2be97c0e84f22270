// Who is online in this process: user id → ids of that user's sockets that count as
// online. A user is online while at least one socket is in the map. With several
// processes (scale-out), each keeps its own and answers the others' questions from it
// (`whoIsOnline` in io.ts).
export class Presence {
  private readonly sockets = new Map<string, Set<string>>();

  /** True when this made the user online here (their first socket in this process). */
  add(userId: string, socketId: string): boolean {
    let set = this.sockets.get(userId);
    const first = !set;
    if (!set) this.sockets.set(userId, (set = new Set()));
    set.add(socketId);
    return first;
  }

  /** True when this took the user's last socket in this process. */
  remove(userId: string, socketId: string): boolean {
    const set = this.sockets.get(userId);
    if (!set?.delete(socketId)) return false;
    if (set.size > 0) return false;
    this.sockets.delete(userId);
    return true;
  }

  isOnline(userId: string): boolean {
    return this.sockets.has(userId);
  }

  /** How many users are online (diagnostics, tests). */
  get size(): number {
    return this.sockets.size;
  }
}
