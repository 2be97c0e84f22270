// Who is online in this process: user id → ids of that user's sockets that count as
// online. A user is online while at least one socket is in the map. With several
// processes (scale-out), each keeps its own and answers the others' questions from it
// (`whoIsOnline` in io.ts).
export class Presence {
  private readonly sockets = new Map<string, Set<string>>();

  add(userId: string, socketId: string): void {
    let set = this.sockets.get(userId);
    if (!set) this.sockets.set(userId, (set = new Set()));
    set.add(socketId);
  }

  remove(userId: string, socketId: string): void {
    const set = this.sockets.get(userId);
    if (!set) return;
    set.delete(socketId);
    if (set.size === 0) this.sockets.delete(userId);
  }

  isOnline(userId: string): boolean {
    return this.sockets.has(userId);
  }

  /** How many users are online (diagnostics, tests). */
  get size(): number {
    return this.sockets.size;
  }
}
