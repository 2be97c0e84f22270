// Notifications, independent of HTTP: replies to your posts, mentions, message requests.
// Writing one is a read and a conditional write of the member's own document (by `_id`),
// queued behind that member's other notification writes; then every tab of theirs, on
// every process, hears the new count through their Socket.IO room.
import { randomUUID } from 'node:crypto';
import { isDuplicateKey } from '../db/errors.ts';
import { createReadCache } from '../db/read-cache.ts';
import type { KeyLock } from '../db/redis-lock.ts';
import { createSerialWrites } from '../db/serial-writes.ts';
import type { Logger } from '../log.ts';
import type { Notify } from '../realtime/events.ts';
import { NOTIFICATIONS_KEPT, NotificationsModel, type NotificationItem, type NotificationKind, type NotificationsDoc } from './model.ts';

export interface NewNotification {
  kind: NotificationKind;
  /** Who acted; a member is never notified of their own act. */
  actor: { id: string; username: string };
  /** Unread notifications with the same group merge into one (e.g. `reply:<postId>`). */
  group: string;
  href: string;
  title?: string;
  excerpt?: string;
}

export interface NotificationsService {
  /** Records a notification for `userId` and tells their open tabs. Never throws: a lost notification must not fail the post. */
  add(userId: string, notification: NewNotification): Promise<void>;
  /** The header's count (short-lived per-process copy, dropped by this process's writes). */
  unreadCount(userId: string): Promise<{ unread: number; v: number }>;
  list(userId: string): Promise<{ items: NotificationItem[]; unread: number; v: number }>;
  markAllRead(userId: string): Promise<void>;
}

const EXCERPT_LENGTH = 140;
/** Another process wrote between our read and our write (MongoDB, no lock): read again. */
const WRITE_ATTEMPTS = 5;

export function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const chars = [...flat];
  return chars.length > EXCERPT_LENGTH ? `${chars.slice(0, EXCERPT_LENGTH - 1).join('')}…` : flat;
}

function merged(items: NotificationItem[], note: NewNotification, now: Date): NotificationItem[] {
  const same = items.find((item) => !item.read && item.k === note.group);
  const rest = items.filter((item) => item !== same);
  const item: NotificationItem = {
    _id: same?._id ?? randomUUID(),
    k: note.group,
    kind: note.kind,
    actor: note.actor.username,
    n: (same?.n ?? 0) + 1,
    title: note.title ?? '',
    // The newest act is the one to open: the latest reply.
    href: note.href,
    excerpt: excerpt(note.excerpt ?? ''),
    at: now,
    read: false,
  };
  return [item, ...rest].slice(0, NOTIFICATIONS_KEPT);
}

const unreadOf = (items: NotificationItem[]) => items.filter((item) => !item.read).length;

export function createNotificationsService(deps: {
  notify: Notify;
  log: Logger;
  readCacheMs: number;
  writeLock?: KeyLock;
  /**
   * Writes to one member's document never overlap (FerretDB: queued here, and across
   * processes by `writeLock`): a write then filters on `_id` alone, the only filter
   * FerretDB 1.x looks up by index (`{ _id, v }` would scan every member's document).
   * MongoDB has no such queue across processes, so there it lands only on the version it read.
   */
  exclusiveWrites?: boolean;
}): NotificationsService {
  const writes = createSerialWrites({ lock: deps.writeLock });
  const counts = createReadCache({ ttlMs: deps.readCacheMs, maxEntries: 5000 });

  /** Read, change, write back only onto what was read. */
  async function change(userId: string, edit: (items: NotificationItem[]) => NotificationItem[] | null): Promise<{ unread: number; v: number } | null> {
    return writes.run(`notifications:${userId}`, async () => {
      for (let attempt = 1; ; attempt++) {
        const doc = await NotificationsModel.findById(userId).lean<NotificationsDoc>().exec();
        const items = edit(doc?.items ?? []);
        if (!items) return null;
        const unread = unreadOf(items);
        try {
          if (!doc) {
            await NotificationsModel.create({ _id: userId, items, unread, v: 1 });
            return { unread, v: 1 };
          }
          const guard = deps.exclusiveWrites ? {} : { v: doc.v };
          const result = await NotificationsModel.updateOne({ _id: userId, ...guard }, { $set: { items, unread }, $inc: { v: 1 } }).exec();
          if (result.matchedCount === 1) return { unread, v: doc.v + 1 };
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
        }
        if (attempt >= WRITE_ATTEMPTS) throw new Error(`notifications of ${userId}: the document kept changing under the write`);
      }
    });
  }

  async function changeAndTell(userId: string, edit: (items: NotificationItem[]) => NotificationItem[] | null): Promise<void> {
    const state = await change(userId, edit);
    counts.invalidate(`count:${userId}`);
    if (state) deps.notify([userId], 'notifications', state);
  }

  return {
    async add(userId, note) {
      if (userId === note.actor.id) return;
      try {
        await changeAndTell(userId, (items) => merged(items, note, new Date()));
      } catch (err) {
        deps.log.warn({ err, userId, kind: note.kind }, 'notification not recorded');
      }
    },

    unreadCount(userId) {
      return counts.get(`count:${userId}`, async () => {
        const doc = await NotificationsModel.findById(userId, { unread: 1, v: 1 }).lean<Pick<NotificationsDoc, 'unread' | 'v'>>().exec();
        return { unread: Math.max(0, doc?.unread ?? 0), v: doc?.v ?? 0 };
      });
    },

    async list(userId) {
      const doc = await NotificationsModel.findById(userId).lean<NotificationsDoc>().exec();
      return { items: doc?.items ?? [], unread: doc?.unread ?? 0, v: doc?.v ?? 0 };
    },

    markAllRead(userId) {
      // Nothing unread: no write, no event.
      return changeAndTell(userId, (items) => (items.some((item) => !item.read) ? items.map((item) => ({ ...item, read: true })) : null));
    },
  };
}
