// Sending a private message: validated, checked (limits, the recipient, blocks), stored
// by the group commit (group-commit.ts), delivered to every tab of both members once
// stored. The recipient's unread count follows once the views are written (views.ts).
import crypto from 'node:crypto';
import type { Limiter } from '../http/rate-limits.ts';
import type { MessageView, Notify, UserView } from '../realtime/events.ts';
import type { FindAbout } from './about.ts';
import { BusyError, type GroupCommit } from './group-commit.ts';
import type { GroupView, Groups } from './groups.ts';
import type { OnMessageRequest } from './requests.ts';
import type { FindOther, ReadUser } from './members.ts';
import { messageId, party, refuse, toMessageView, userView, type Party, type Refusal } from './message-view.ts';
import { conversationId, entryKey, isGroupConversation, isRequest, unreadOf, unreadTotalOf, type StoredMessage } from './models.ts';
import { firstIssue, issueField, privateMessageSchema, type PrivateMessage } from './schemas.ts';
import type { MessageStore } from './store.ts';
import type { InboxWritten } from './views.ts';
import type { WriteGate } from './write-gate.ts';

export type SendResult = { ok: true; online: boolean; message: MessageView; friend: UserView; duplicate: boolean; group?: GroupView } | Refusal;

export interface Sender extends Party {
  /** The connection the message came from; its own copy is not echoed back to it. */
  origin?: string;
}

export interface SendingDeps {
  maxLength: number;
  store: MessageStore;
  commit: GroupCommit;
  gate: WriteGate;
  limiter: Limiter;
  readUser: ReadUser;
  findOther: FindOther;
  notify: Notify;
  isOnline: (userId: string) => Promise<boolean>;
  groups: Groups;
  whoIsOnline: (userIds: string[]) => Promise<Set<string>>;
  /** The post a message is about, by id (about.ts). */
  findAbout: FindAbout;
  onMessageRequest?: OnMessageRequest;
}

export function createSending(deps: SendingDeps) {
  const { store, commit, gate, notify, readUser, isOnline } = deps;
  const schema = privateMessageSchema(deps.maxLength);

  /**
   * Sends being written, by message id. A resend that arrives while its first attempt is
   * still being written (the sender was told "not confirmed", or lost the answer) waits
   * for that attempt instead of racing it.
   */
  const sending = new Map<string, Promise<SendResult>>();

  function startSend(sender: Sender, input: PrivateMessage): Promise<SendResult> {
    const clientId = input.client_id ?? crypto.randomBytes(16).toString('hex');
    const id = messageId(sender.id, clientId);
    let work = sending.get(id);
    if (!work) {
      work = gate.track(() => storeAndDeliver(sender, { ...input, client_id: clientId }));
      sending.set(id, work);
      const forget = () => sending.delete(id);
      work.then(forget, forget);
    }
    return gate.answerInTime(work);
  }

  /** The message to every tab of both. */
  function deliver(message: StoredMessage, sender: Sender, recipient: Party) {
    const view = toMessageView(message);
    notify([recipient.id], 'sendback', { content: view.content, friend: userView(sender), message: view });
    notify([sender.id], 'sendback', { content: view.content, friend: userView(recipient), message: view }, { except: sender.origin });
  }

  /** A pass of the view writer wrote these inboxes: their owners' tabs hear the new counts. */
  async function inboxWritten({ owner, doc, from }: InboxWritten) {
    const total = unreadTotalOf(doc) + (await store.groupUnread(owner, doc));
    for (const userId of from) {
      const entry = doc.e?.[entryKey(userId)];
      // The first message of a request: announced once (the notifications module's hook).
      if (deps.onMessageRequest && entry?.r === 1 && isRequest(doc, entry)) deps.onMessageRequest(owner, { id: userId, username: entry.username });
      notify([owner], 'unread', { v: doc.v ?? 0, total, user: { _id: userId, username: entry?.username ?? '' }, count: unreadOf(entry) });
    }
  }
  store.views.onInboxWritten((written) => void inboxWritten(written).catch(() => undefined));

  /** Messages a failed batch had stored, counted by the repair before the next batch: delivered now. */
  async function deliverRepaired(messages: StoredMessage[]) {
    for (const m of messages) {
      if (isGroupConversation(m.conv)) {
        const from = await readUser(m.from);
        if (from) await deps.groups.deliver(m, party(from));
        continue;
      }
      const [from, to] = await Promise.all([readUser(m.from), readUser(m.to)]);
      if (from && to) deliver(m, party(from), party(to));
    }
  }
  commit.onRepaired = (messages) => void deliverRepaired(messages).catch(() => undefined);

  /** The send queue is full: refused at once, with when to try again (the browser's outbox does). */
  function tooBusy(retryAfterMs = commit.busy()): Refusal | undefined {
    if (retryAfterMs === undefined) return undefined;
    return refuse('busy', 'messaging.error.busy', { retryAfter: retryAfterMs });
  }

  async function storeAndDeliver(sender: Sender, input: PrivateMessage & { client_id: string }): Promise<SendResult> {
    const { to_user, to_username, content, client_id: clientId } = input;
    // Before any database read, so that probing for usernames costs points too.
    const limit = await deps.limiter.consume(sender.id);
    if (!limit.ok) return refuse('rateLimited', 'messaging.error.rateLimited', { retryAfter: limit.retryAfterSeconds, vars: { seconds: limit.retryAfterSeconds } });
    if (input.conversation !== undefined) return sendToGroup(sender, input.conversation, content, clientId);

    const recipientDoc = await deps.findOther({ id: to_user, username: to_username });
    if (!recipientDoc) return refuse('notFound', 'messaging.error.unknownUser', { field: 'to' });
    const recipient = party(recipientDoc);
    if (recipient.id === sender.id) return refuse('self', 'messaging.error.self', { field: 'to' });
    // Nothing is stored or delivered, and the error says no more than that the message
    // cannot be sent: not that there was a block, nor whether the member is online.
    if ((recipientDoc.blocked ?? []).includes(sender.id)) return refuse('blocked', 'messaging.error.blocked');
    // A deleted account reads nothing more (settings/account-deletion.ts).
    if (recipientDoc.deletedAt) return refuse('blocked', 'messaging.error.blocked');

    const about = input.about === undefined ? undefined : await deps.findAbout(input.about);
    if (input.about !== undefined && !about) return refuse('notFound', 'chatmore.error.noPost');

    // Asked now, answered while the message is stored: with scale-out it may be a question to the other processes.
    const recipientOnline = isOnline(recipient.id);
    recipientOnline.catch(() => undefined); // awaited below, unless storing fails first
    const id = messageId(sender.id, clientId);
    const conv = conversationId(sender.id, recipient.id);
    let committed;
    try {
      committed = await commit.submit({ message: { _id: id, conv, from: sender.id, to: recipient.id, content, createdAt: new Date(), clientId, ...(about && { about }) }, sender, recipient });
    } catch (err) {
      if (err instanceof BusyError) return tooBusy(err.retryAfterMs)!;
      throw err;
    }
    if (committed.status === 'stored') {
      deliver(committed.message, sender, recipient);
      return { ok: true, online: await recipientOnline, message: toMessageView(committed.message), friend: userView(recipient), duplicate: false };
    }

    // A resend of a stored message: answered with what was stored the first time. Its
    // views were written with it, or are being written by the repair that follows a
    // failed batch or a crash (group-commit.ts, repair.ts), which delivers it then.
    const stored = await store.findMessage(id);
    if (!stored) throw new Error(`message ${id} reported as duplicate but not found`);
    const storedRecipient = stored.to === recipient.id ? recipient : await partyById(stored.to, recipient);
    return { ok: true, online: await isOnline(stored.to), message: toMessageView(stored), friend: userView(storedRecipient), duplicate: true };
  }

  /** A group's message: the same group commit, addressed to the group (groups.ts); no inbox is written for it. */
  async function sendToGroup(sender: Sender, conv: string, content: string, clientId: string): Promise<SendResult> {
    const doc = await deps.groups.isMember(conv, sender.id);
    if (!doc) return refuse('notFound', 'groups.error.notFound', { field: 'to' });
    const id = messageId(sender.id, clientId);
    let committed;
    try {
      committed = await commit.submit({ message: { _id: id, conv, from: sender.id, to: conv, content, createdAt: new Date(), clientId }, sender });
    } catch (err) {
      if (err instanceof BusyError) return tooBusy(err.retryAfterMs)!;
      throw err;
    }
    const stored = committed.status === 'stored' ? committed.message : await store.findMessage(id);
    if (!stored) throw new Error(`message ${id} reported as duplicate but not found`);
    // A resend is answered with what was stored the first time, and not delivered again.
    const delivered = committed.status === 'stored' ? await deps.groups.deliver(stored, sender, committed.counts) : undefined;
    const group = delivered?.group ?? (await deps.groups.groupView(doc));
    const others = doc.participants.filter((m) => m !== sender.id);
    const online = (await deps.whoIsOnline(others)).size > 0;
    return { ok: true, online, message: toMessageView(stored), friend: userView(sender), duplicate: committed.status !== 'stored', group };
  }

  async function partyById(id: string, fallback: Party): Promise<Party> {
    const user = await readUser(id);
    return user ? party(user) : fallback;
  }

  return {
    /** Validates and stores a private message, then delivers it. Resolves once the message is durably stored. */
    async send(sender: Sender, input: unknown): Promise<SendResult> {
      const parsed = schema.safeParse(input);
      if (!parsed.success) {
        return refuse('invalid', firstIssue(parsed.error), { field: issueField(parsed.error), vars: { maximum: deps.maxLength } });
      }
      if (parsed.data.to_user === sender.id) return refuse('self', 'messaging.error.self', { field: 'to' });
      // Checked before the rate limit: a send the database could not take costs no points.
      // No await between the check and track(): shutdown cannot slip in between.
      return gate.cannotWrite() ?? tooBusy() ?? startSend(sender, parsed.data);
    },
  };
}
