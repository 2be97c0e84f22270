// E-mail about unread messages, for members who are away. The rules, from the issue and
// from what NodeBB's and Discourse's members complain about:
//   - only after UNREAD_MAIL_DELAY_MS with no socket of the member open anywhere since
//     the message came (a member who was there saw it: the badge, the title, the tab);
//   - only messages still unread when the mail is made (read through the messaging
//     service's inbox and history, never its collections);
//   - never one message twice, at most one mail per member per UNREAD_MAIL_INTERVAL_MS;
//   - only to a confirmed address, never after the member unsubscribed.
//
// The hook into messaging is one signal: a message was delivered to a member (server.ts
// passes the deliveries through `delivered`). Arrivals are gathered per process for a
// moment and written as one upsert per member, off the send's path: a send never waits
// on this. Every process looks for due members; each look is claimed by inserting
// `unread:<member>:<dueAt>` into mail_claims (an insert keyed by `_id` is atomic on
// MongoDB and FerretDB alike), and the mail's own id is made from the member and the
// newest message in it, so two processes can never queue the same mail twice.
import { findUserById } from '../accounts/user-model.ts';
import type { Config } from '../config.ts';
import { isDuplicateKey } from '../db/errors.ts';
import { isLocale } from '../i18n/index.ts';
import type { Logger } from '../log.ts';
import type { MessagingService } from '../messaging/service.ts';
import { composeMail } from './compose.ts';
import type { Mail } from './index.ts';
import type { LastSeen } from './last-seen.ts';
import { MailClaimModel } from './models.ts';
import { UnreadSentModel, UnreadWatchModel, type UnreadWatch } from './unread-models.ts';

/** How long arrivals are gathered before their one write per member. */
const GATHER_MS = 250;
/** Members looked at per pass. */
const BATCH = 50;
/** Messages quoted per conversation; the count says how many there are. */
const QUOTED_PER_CONVERSATION = 3;
const FIRST_LINES = 3;
const FIRST_CHARS = 240;

export interface UnreadMailDeps {
  config: Pick<Config, 'mail'>;
  log: Logger;
  mail: Mail;
  messaging: Pick<MessagingService, 'inbox' | 'history'>;
  lastSeen: LastSeen['lastSeen'];
  /** The member has a socket on this process now: no need to write anything for them. */
  isOnlineHere: (userId: string) => boolean;
  isDatabaseConnected?: () => boolean;
}

/** The first few lines of a message, shortened: what the mail quotes (escaped by the template). */
export function firstLines(content: string): string {
  const lines = content.replace(/\r\n?/g, '\n').trim().split('\n').slice(0, FIRST_LINES).join('\n');
  const chars = [...lines];
  return chars.length > FIRST_CHARS ? `${chars.slice(0, FIRST_CHARS - 1).join('')}…` : lines.length < content.trim().length ? `${lines}…` : lines;
}

export function createUnreadMail(deps: UnreadMailDeps) {
  const { log, mail } = deps;
  const { unreadDelayMs, unreadIntervalMs, pollMs, smtpTimeoutMs } = deps.config.mail;
  const leaseMs = 3 * smtpTimeoutMs + 60_000;
  const isConnected = deps.isDatabaseConnected ?? (() => true);
  const gathered = new Map<string, number>();
  let flushTimer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  let pollTimer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;

  function flush(): Promise<void> {
    flushTimer = undefined;
    const batch = [...gathered];
    gathered.clear();
    flushing = flushing.then(async () => {
      for (const [userId, at] of batch) {
        // Created after `since`: one millisecond before the first arrival.
        const since = new Date(at - 1);
        await UnreadWatchModel.updateOne(
          { _id: userId },
          { $min: { since }, $setOnInsert: { dueAt: new Date(at + unreadDelayMs) }, $inc: { n: 1 } },
          { upsert: true },
        )
          .exec()
          .catch((err: unknown) => {
            // Two processes creating the same member's document: the other one's stands.
            if (!isDuplicateKey(err)) log.warn({ err, userId }, 'unread mail: could not note an arrival');
          });
      }
    });
    return flushing;
  }

  /** A message was delivered to `userIds` (the sender among them, for their other tabs). */
  function delivered(userIds: string[], message: { from: string; createdAt: string }): void {
    const at = Date.parse(message.createdAt);
    if (!Number.isFinite(at)) return;
    for (const userId of userIds) {
      if (userId === message.from || deps.isOnlineHere(userId)) continue;
      gathered.set(userId, Math.min(gathered.get(userId) ?? at, at));
    }
    if (gathered.size > 0 && !flushTimer) {
      flushTimer = setTimeout(() => void flush(), GATHER_MS);
      flushTimer.unref();
    }
  }

  async function claim(key: string): Promise<boolean> {
    try {
      await MailClaimModel.create({ _id: key, at: new Date(), by: 'unread' });
      return true;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Held by a process that died mid-look: move the look, so that a new claim can be had.
      const held = await MailClaimModel.findById(key).lean().exec();
      if (held && held.at.getTime() + leaseMs < Date.now()) {
        const [, userId, due] = key.split(':');
        await UnreadWatchModel.updateOne({ _id: userId, dueAt: new Date(Number(due)) }, { $set: { dueAt: new Date() } }).exec();
      }
      return false;
    }
  }

  /** The unread messages the member could be told about now, per conversation: created after `since`, not mailed before. */
  async function unreadSince(owner: { id: string; username: string }, since: number, mailedUpTo: Record<string, number>) {
    const inbox = await deps.messaging.inbox(owner);
    const conversations = [];
    for (const c of inbox.conversations) {
      if (c.unread <= 0 || c.last.at.getTime() <= since) continue;
      const page = await deps.messaging.history(owner, { id: c.user._id, username: c.user.username }, {});
      // The newest `unread` messages from the other person are the unread ones.
      const theirs = page.messages.filter((m) => m.from === c.user._id).slice(-c.unread);
      const fresh = theirs.filter((m) => Date.parse(m.createdAt) > since && m.seq > (mailedUpTo[c.user._id] ?? 0));
      if (fresh.length === 0) continue;
      conversations.push({
        other: c.user._id,
        upTo: Math.max(...fresh.map((m) => m.seq)),
        from: c.user.username,
        count: fresh.length,
        url: mail.url(`/messages/${encodeURIComponent(c.user.username)}`),
        newest: Math.max(...fresh.map((m) => Date.parse(m.createdAt))),
        messages: fresh.slice(-QUOTED_PER_CONVERSATION).map((m) => ({ firstLines: firstLines(m.content), at: new Date(m.createdAt) })),
      });
    }
    return conversations;
  }

  const reschedule = (w: UnreadWatch, set: { since?: Date; dueAt: Date }) => UnreadWatchModel.updateOne({ _id: w._id, n: w.n }, { $set: set }).exec();
  const forget = (w: UnreadWatch) => UnreadWatchModel.deleteOne({ _id: w._id, n: w.n }).exec();

  async function look(w: UnreadWatch): Promise<void> {
    const key = `unread:${w._id}:${w.dueAt.getTime()}`;
    if (!(await claim(key))) return;
    try {
      // Another process may have done this look and let go of its claim since this one read the list.
      const current = await UnreadWatchModel.findById(w._id, { dueAt: 1 }).lean<{ dueAt: Date }>().exec();
      if (current?.dueAt.getTime() !== w.dueAt.getTime()) return;
      const user = await findUserById(w._id);
      if (!user?.email || user.unreadMail === false) return void (await forget(w));
      // A socket of theirs open since the messages came: they were here. Only what comes
      // after they last left may be mailed, after the delay counted from then. (Strictly
      // after: `since` is then that moment, and the next look must not stop there again.)
      const seen = (await deps.lastSeen([w._id])).get(w._id);
      if (seen !== undefined && seen > w.since.getTime()) {
        return void (await reschedule(w, { since: new Date(seen), dueAt: new Date(seen + unreadDelayMs) }));
      }
      const sent = await UnreadSentModel.findById(w._id).lean<{ upTo?: Record<string, number>; lastMailAt: Date }>().exec();
      const now = Date.now();
      if (sent && unreadIntervalMs > 0 && sent.lastMailAt.getTime() + unreadIntervalMs > now) {
        return void (await reschedule(w, { dueAt: new Date(sent.lastMailAt.getTime() + unreadIntervalMs) }));
      }
      const conversations = await unreadSince({ id: w._id, username: user.username }, w.since.getTime(), sent?.upTo ?? {});
      if (conversations.length === 0) return void (await forget(w));
      const newest = Math.max(...conversations.map((c) => c.newest));
      const composed = await composeMail('unread', isLocale(user.locale) ? user.locale : 'en', {
        username: user.username,
        conversations,
        unsubscribeUrl: mail.unsubscribeUrl(w._id),
        settingsUrl: mail.url('/settings'),
      });
      await mail.enqueue({ id: `unread-${w._id}-${newest}`, kind: 'unread', to: user.email, headers: mail.unsubscribeHeaders(w._id), ...composed });
      const upTo = Object.fromEntries(conversations.map((c) => [`upTo.${c.other}`, c.upTo]));
      await UnreadSentModel.updateOne({ _id: w._id }, { $set: { ...upTo, lastMailAt: new Date(now) } }, { upsert: true }).exec();
      // Anything that arrived during this look keeps the document, for the next mail; what
      // was mailed now is past the watermarks, whatever order the messages were stored in.
      const { deletedCount } = await forget(w);
      if (deletedCount === 0) {
        await UnreadWatchModel.updateOne({ _id: w._id }, { $set: { dueAt: new Date(now + Math.max(unreadDelayMs, unreadIntervalMs)) } }).exec();
      }
    } finally {
      await MailClaimModel.deleteOne({ _id: key }).exec();
    }
  }

  async function pass(): Promise<void> {
    if (!isConnected()) return;
    const due = await UnreadWatchModel.find({ dueAt: { $lte: new Date() } }).sort({ dueAt: 1 }).limit(BATCH).lean<UnreadWatch[]>().exec();
    for (const w of due) {
      if (stopped) break;
      await look(w).catch((err: unknown) => log.warn({ err, userId: w._id }, 'unread mail: look failed'));
    }
  }

  function runOnce(): Promise<void> {
    running ??= pass()
      .catch((err: unknown) => log.warn({ err }, 'unread mail: pass failed'))
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  function schedule(): void {
    if (stopped) return;
    pollTimer = setTimeout(() => void runOnce().finally(schedule), pollMs);
    pollTimer.unref();
  }

  return {
    delivered,
    runOnce,
    /** Writes what has been gathered now (tests, shutdown). */
    flush,
    start() {
      if (!stopped) return;
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (pollTimer) clearTimeout(pollTimer);
      if (flushTimer) clearTimeout(flushTimer);
      await flush();
      await running;
    },
  };
}

export type UnreadMail = ReturnType<typeof createUnreadMail>;
