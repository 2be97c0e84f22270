// The messaging domain: validates, stores, then tells a notifier whom to deliver to.
// It knows nothing of Socket.IO or HTTP: the socket handlers and the form routes both
// call it, so a message takes the same path through checks, limits and storage either way.
import crypto from 'node:crypto';
import { avatarUrl } from '../accounts/avatar.ts';
import { findUserById, findUserByUsername, type UserDocument } from '../accounts/user-model.ts';
import type { Config } from '../config.ts';
import type { Limiter } from '../http/rate-limits.ts';
import type { Failure, MarkReadAck, MessageView, Notify, UserView } from '../realtime/events.ts';
import { conversationId, entryKey, lastOf, type StoredMessage } from './models.ts';
import { createInFlight, withDeadline } from './in-flight.ts';
import { firstIssue, issueField, markReadSchema, privateMessageSchema, WATCH_PRESENCE_MAX, watchPresenceSchema, type PrivateMessage } from './schemas.ts';
import { MessageStore, type HistorySlice, type Party } from './store.ts';

export type { Notify };

/** Which of these users are online, as the realtime layer knows it: with scale-out, other processes are asked. */
export type WhoIsOnline = (userIds: string[]) => Promise<Set<string>>;

export interface Deliveries {
  notify: Notify;
  whoIsOnline: WhoIsOnline;
}

export interface MessagingDeps {
  config: Pick<Config, 'limits'>;
  /** Reads a user by id (the recipient of every send): accounts/user-cache.ts keeps copies briefly. */
  readUser?: (userId: string) => Promise<UserDocument | null>;
  limiters: { message: Limiter };
  deliveries: Deliveries;
  store?: MessageStore;
  /**
   * False while the database is away. Writes are then refused at once: the driver would
   * otherwise hold each one for its whole server-selection timeout before failing.
   */
  isDatabaseConnected?: () => boolean;
}

/** A failure before translation: `error` is a translation key. */
export type Refusal = Omit<Failure, 'error'> & { error: string; vars?: Record<string, string | number> };

export type SendResult = { ok: true; online: boolean; message: MessageView; friend: UserView; duplicate: boolean } | Refusal;

export interface Sender extends Party {
  /** The connection the message came from; its own copy is not echoed back to it. */
  origin?: string;
}

export interface ConversationSummary {
  user: UserView;
  unread: number;
  online: boolean;
  last: { seq: number; at: Date; from: string; preview: string };
}

export interface InboxView {
  v: number;
  total: number;
  conversations: ConversationSummary[];
}

export interface HistoryView extends Omit<HistorySlice, 'readSeq' | 'messages'> {
  user: UserView & { online: boolean };
  messages: MessageView[];
  /** How far the other person has read this conversation (read receipts). */
  readUpTo: number;
}

const refuse = (code: Refusal['code'], error: string, extra: Partial<Refusal> = {}): Refusal => ({ ok: false, code, error, ...extra });

export function toMessageView(m: StoredMessage): MessageView {
  return {
    _id: m._id,
    from: m.from,
    to: m.to,
    content: m.content,
    createdAt: new Date(m.createdAt).toISOString(),
    seq: m.seq,
    clientId: m.clientId,
  };
}

export function userView(user: Party): UserView {
  return { _id: user.id, username: user.username, avatar: avatarUrl(user) };
}

export function party(user: UserDocument): Party {
  return { id: user._id.toString(), username: user.username };
}

/** The same sender and client id always give the same `_id`: that is what makes resends idempotent. */
export function messageId(senderId: string, clientId: string): string {
  return crypto.createHash('sha256').update(`${senderId}:${clientId}`).digest('hex').slice(0, 24);
}

export type MessagingService = ReturnType<typeof createMessagingService>;

export function createMessagingService(deps: MessagingDeps) {
  const store = deps.store ?? new MessageStore();
  const readUser = deps.readUser ?? findUserById;
  const { notify, whoIsOnline } = deps.deliveries;
  const isOnline = async (userId: string) => (await whoIsOnline([userId])).has(userId);
  const schema = privateMessageSchema(deps.config.limits.messageMaxLength);
  const isDatabaseConnected = deps.isDatabaseConnected ?? (() => true);
  const writes = createInFlight();

  /** Why a write cannot start now, if it cannot. */
  function cannotWrite(): Refusal | undefined {
    if (!writes.accepting) return refuse('unavailable', 'messaging.error.restarting');
    if (!isDatabaseConnected()) return refuse('unavailable', 'messaging.error.unavailable');
    return undefined;
  }

  /**
   * A database that stalls without dropping the connection (frozen, overloaded) would
   * leave the caller waiting for good; after the store timeout the caller is told the
   * write is not confirmed, while the write itself goes on. Resending with the same
   * client id is then safe either way.
   */
  function answerInTime<T>(work: Promise<T>): Promise<T | Refusal> {
    return withDeadline<T | Refusal>(work, deps.config.limits.messageStoreTimeoutMs, () => refuse('unavailable', 'messaging.error.notConfirmed'));
  }

  /**
   * Sends being written, by message id. A resend that arrives while its first attempt is
   * still being written (the sender was told "not confirmed", or lost the answer) waits
   * for that attempt instead of racing it: two writers of one message could each count
   * it unread, or push it to its page twice.
   */
  const sending = new Map<string, Promise<SendResult>>();

  function startSend(sender: Sender, input: PrivateMessage): Promise<SendResult> {
    const clientId = input.client_id ?? crypto.randomBytes(16).toString('hex');
    const id = messageId(sender.id, clientId);
    let work = sending.get(id);
    if (!work) {
      work = writes.run(() => storeAndDeliver(sender, { ...input, client_id: clientId }));
      sending.set(id, work);
      const forget = () => sending.delete(id);
      work.then(forget, forget);
    }
    return answerInTime(work);
  }

  async function findOther(by: { id?: string; username?: string }): Promise<UserDocument | null> {
    if (by.id !== undefined) return readUser(by.id);
    if (by.username !== undefined) return findUserByUsername(by.username);
    return null;
  }

  /**
   * The page push and both inbox entries. With `repair` (a resend) only what a failed
   * first attempt left undone is written; `wasMissing` then says whether anything was.
   * A first attempt delivers right after these writes, so one that stopped short of any
   * of them delivered nothing, and the repair delivers instead.
   */
  async function fanOut(message: StoredMessage, sender: Party, recipient: Party, repair: boolean) {
    const [pageLacked, unread, own] = await Promise.all([
      repair ? store.ensureInPage(message) : store.appendToPage(message).then(() => true),
      store.recordInInbox(recipient.id, sender, message, { incoming: true, repair }),
      store.recordInInbox(sender.id, recipient, message, { incoming: false, repair }),
    ]);
    return { wasMissing: pageLacked || unread.written || own.written, unread };
  }

  function deliver(message: StoredMessage, sender: Sender, recipient: Party, unread: { v: number; total: number; count: number }) {
    const view = toMessageView(message);
    notify([recipient.id], 'sendback', { content: view.content, friend: userView(sender), message: view });
    notify([sender.id], 'sendback', { content: view.content, friend: userView(recipient), message: view }, { except: sender.origin });
    notify([recipient.id], 'unread', { v: unread.v, total: unread.total, user: { _id: sender.id, username: sender.username }, count: unread.count });
  }

  /**
   * Validates and stores a private message, then delivers it. Resolves only once the
   * message, its history page and both inbox entries are stored.
   */
  async function send(sender: Sender, input: unknown): Promise<SendResult> {
    const parsed = schema.safeParse(input);
    if (!parsed.success) {
      return refuse('invalid', firstIssue(parsed.error), { field: issueField(parsed.error), vars: { maximum: deps.config.limits.messageMaxLength } });
    }
    if (parsed.data.to_user === sender.id) return refuse('self', 'messaging.error.self', { field: 'to' });
    // Checked before the rate limit: a send the database could not take costs no points.
    // No await between the check and run(): shutdown cannot slip in between.
    return cannotWrite() ?? startSend(sender, parsed.data);
  }

  async function storeAndDeliver(sender: Sender, input: PrivateMessage & { client_id: string }): Promise<SendResult> {
    const { to_user, to_username, content, client_id: clientId } = input;
    // Before any database read, so that probing for usernames costs points too.
    const limit = await deps.limiters.message.consume(sender.id);
    if (!limit.ok) return refuse('rateLimited', 'messaging.error.rateLimited', { retryAfter: limit.retryAfterSeconds, vars: { seconds: limit.retryAfterSeconds } });

    const recipientDoc = await findOther({ id: to_user, username: to_username });
    if (!recipientDoc) return refuse('notFound', 'messaging.error.unknownUser', { field: 'to' });
    const recipient = party(recipientDoc);
    if (recipient.id === sender.id) return refuse('self', 'messaging.error.self', { field: 'to' });
    // Nothing is stored or delivered, and the error says no more than that the message
    // cannot be sent: not that there was a block, nor whether the member is online.
    if ((recipientDoc.blocked ?? []).includes(sender.id)) return refuse('blocked', 'messaging.error.blocked');

    // Asked now, answered while the message is stored: with scale-out it may be a question to the other processes.
    const recipientOnline = isOnline(recipient.id);
    recipientOnline.catch(() => undefined); // awaited below, unless storing fails first
    const id = messageId(sender.id, clientId);
    const conv = conversationId(sender.id, recipient.id);
    const now = new Date();
    const seq = await store.allocateSeq(conv, [sender.id, recipient.id].sort() as [string, string], now);
    const message: StoredMessage = { _id: id, conv, seq, from: sender.id, to: recipient.id, content, createdAt: now, clientId };

    if ((await store.insertMessage(message)) === 'inserted') {
      const { unread } = await fanOut(message, sender, recipient, false);
      deliver(message, sender, recipient, unread);
      return { ok: true, online: await recipientOnline, message: toMessageView(message), friend: userView(recipient), duplicate: false };
    }

    // A resend: answer with what was stored the first time (the seq just allocated stays
    // a gap, which paging and unread counts tolerate), and finish whatever a crash left
    // undone. Only a message whose first attempt stopped short is delivered (again, at
    // worst, after a crash between store and delivery: clients drop copies by message id).
    const stored = await store.findMessage(id);
    if (!stored) throw new Error(`message ${id} reported as duplicate but not found`);
    const storedRecipient = stored.to === recipient.id ? recipient : await partyById(stored.to, recipient);
    const { wasMissing, unread } = await fanOut(stored, sender, storedRecipient, true);
    if (wasMissing) deliver(stored, sender, storedRecipient, unread);
    return { ok: true, online: await isOnline(stored.to), message: toMessageView(stored), friend: userView(storedRecipient), duplicate: true };
  }

  async function partyById(id: string, fallback: Party): Promise<Party> {
    const user = await findUserById(id);
    return user ? party(user) : fallback;
  }

  /** Marks the reader's conversation with `other` read up to `upTo`, and tells every tab of both. */
  async function markReadWith(reader: Party, other: Party, upTo: number | undefined) {
    const state = await store.markRead(reader.id, other.id, upTo);
    if (state.changed) {
      notify([reader.id], 'unread', { v: state.v, total: state.total, user: { _id: other.id, username: other.username }, count: state.count });
      // Never past what the reader has received: a forged upTo would show the other
      // member their future messages as seen.
      const readTo = Math.min(upTo ?? state.lastSeq, state.lastSeq);
      await store.advanceReadSeq(conversationId(reader.id, other.id), reader.id, readTo);
      notify([other.id], 'read', { user: reader.id, upTo: readTo });
    }
    return state;
  }

  /** The socket's mark-read: the other person by id or username. */
  async function markRead(reader: Party, input: unknown): Promise<Exclude<MarkReadAck, Failure> | Refusal> {
    const parsed = markReadSchema.safeParse(input);
    if (!parsed.success) return refuse('invalid', firstIssue(parsed.error));
    const { user, username, upTo } = parsed.data;
    return (
      cannotWrite() ??
      answerInTime(
        writes.run(async () => {
          const other = await findOther({ id: user, username });
          if (!other) return refuse('notFound', 'messaging.error.unknownUser');
          const state = await markReadWith(reader, party(other), upTo);
          return { ok: true as const, total: state.total, count: state.count };
        }),
      )
    );
  }

  /**
   * A slice of the conversation between `viewer` and `other`, oldest first. Without
   * `presence` (the other has blocked the viewer) the other person shows as offline.
   */
  async function history(viewer: Party, other: Party, query: { before?: number; after?: number }, options: { presence?: boolean } = {}): Promise<HistoryView> {
    const slice = await store.history(conversationId(viewer.id, other.id), query);
    return {
      user: { ...userView(other), online: options.presence !== false && (await isOnline(other.id)) },
      messages: slice.messages.map(toMessageView),
      hasOlder: slice.hasOlder,
      hasNewer: slice.hasNewer,
      latestSeq: slice.latestSeq,
      readUpTo: slice.readSeq[entryKey(other.id)] ?? 0,
    };
  }

  /**
   * Which of `userIds` the owner may see come and go (live online dots), and who of them
   * is online now: the members the owner has a conversation with (the messages page
   * lists no one else; anyone else's online status is not theirs to follow), except
   * those who blocked the owner (the messages page shows them offline too).
   */
  async function watchablePresence(owner: Party, input: unknown): Promise<{ ok: true; allowed: string[]; online: string[] } | Refusal> {
    const parsed = watchPresenceSchema.safeParse(input);
    if (!parsed.success) return refuse('invalid', firstIssue(parsed.error), { vars: { maximum: WATCH_PRESENCE_MAX } });
    const doc = await store.readInbox(owner.id);
    // Keyed by entryKey ('u' + id): an entry may hold nothing but the flag.
    const entries = doc?.e ?? {};
    const allowed = parsed.data.filter((id) => {
      const entry = entries[entryKey(id)];
      return id !== owner.id && entry !== undefined && !entry.blockedMe && lastOf(entry) !== undefined;
    });
    const online = await whoIsOnline(allowed);
    return { ok: true, allowed, online: allowed.filter((id) => online.has(id)) };
  }

  /** The messages page: every conversation, latest first, from one read. */
  async function inbox(owner: Party): Promise<InboxView> {
    const doc = await store.readInbox(owner.id);
    const entries = Object.values(doc?.e ?? {}).flatMap((entry) => {
      const last = lastOf(entry);
      return last ? [{ ...entry, last }] : [];
    });
    entries.sort((a, b) => b.last.at.getTime() - a.last.at.getTime());
    // One question for the whole list; no one who blocked the owner is asked about.
    const online = await whoIsOnline(entries.filter((entry) => !entry.blockedMe).map((entry) => entry.user));
    const conversations = entries.map((entry) => ({
      user: userView({ id: entry.user, username: entry.username }),
      unread: Math.max(0, entry.unread ?? 0),
      online: !entry.blockedMe && online.has(entry.user),
      last: entry.last,
    }));
    return { v: doc?.v ?? 0, total: Math.max(0, doc?.unreadTotal ?? 0), conversations };
  }

  return {
    store,
    maxLength: deps.config.limits.messageMaxLength,
    send,
    markRead,
    markReadWith,
    history,
    inbox,
    watchablePresence,
    unreadTotal: (owner: Party) => store.unreadTotal(owner.id),
    findOther,
    /**
     * For shutdown: refuses new sends and mark-reads from now on, and resolves once those
     * already under way are stored (and so acknowledged), or after `timeoutMs`.
     */
    drain: (timeoutMs: number) => writes.close(timeoutMs),
    /** Sends and mark-reads under way (diagnostics, tests). */
    get writesInFlight() {
      return writes.size;
    },
  };
}
