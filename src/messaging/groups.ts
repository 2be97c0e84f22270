// Group conversations: three to GROUP_MAX_MEMBERS members talking at once. A group is a
// conversation like a pair's (same counters, pages, group commit), with an id of its own
// ("g" + 24 hex digits) and its members in `participants`. What it does not have is a
// write per member per message:
//
// - its messages go into the conversation's counters and pages only; no member's inbox
//   is written per message. A member's inbox holds one entry per group, written when
//   they join or leave; the messages page reads the group's preview (`lastMsg`) from the
//   conversation document, and each member's unread count is derived: what they received
//   there (n minus what they sent) minus what they read (`readN`), all from the counters;
// - membership changes (start, add, leave) are rare and written at once, conditional on
//   the membership version read (`mv`), so two changes on two processes cannot undo each
//   other on MongoDB (no lock is taken there);
// - every process keeps a short-lived copy of each group's members (READ_CACHE_MS); a
//   change drops it here at once and, with several processes, everywhere through the
//   Socket.IO adapter (server.ts), like user documents.
//
// Blocking inside a group follows Discourse's "ignore": a member who blocked you cannot
// be added by you (nor be in a group you start); in a group you are both in, the blocker
// does not get your messages live, sees them only as a placeholder, does not hear you
// type, and you do not see their presence (docs/SECURITY.md).
import crypto from 'node:crypto';
import type { UserDocument } from '../accounts/user-model.ts';
import { createReadCache } from '../db/read-cache.ts';
import type { Limiter } from '../http/rate-limits.ts';
import type { MessageView, Notify, UserView } from '../realtime/events.ts';
import type { ConversationCounts } from './counters.ts';
import type { WhoIsOnline } from './inbox.ts';
import type { FindOther, ReadUser } from './members.ts';
import { party, refuse, toMessageView, userView, type Party, type Refusal } from './message-view.ts';
import { ConversationModel, decodeLast, entryKey, InboxModel, isGroupConversation, type ConversationDoc, type StoredMessage } from './models.ts';
import { groupUnreadOf, type MessageStore } from './store.ts';

export interface GroupView {
  _id: string;
  /** The members' names, in the order they joined. */
  title: string;
  members: UserView[];
}

export interface GroupSummary {
  group: GroupView;
  unread: number;
  last: { seq: number; at: Date; from: string; preview: string } | undefined;
  /** When the member joined, for ordering a group that has no message yet. */
  at: Date;
}

export interface GroupPage {
  group: GroupView & { members: (UserView & { online: boolean })[] };
  messages: (MessageView & { hidden?: boolean })[];
  hasOlder: boolean;
  hasNewer: boolean;
  latestSeq: number;
  /** Member id → the highest seq they have read: "seen by 2 of 4". */
  readSeq: Record<string, number>;
}

/** Usernames typed into the "to" field: comma, space or both between them. */
export function splitNames(input: string): string[] {
  const seen = new Set<string>();
  const names: string[] = [];
  for (const name of input.split(/[\s,，、]+/)) {
    const key = name.toLowerCase();
    if (name && !seen.has(key)) {
      seen.add(key);
      names.push(name);
    }
  }
  return names;
}

const isBlockedBy = (user: UserDocument, blockedId: string) => (user.blocked ?? []).includes(blockedId);

export interface GroupsDeps {
  store: MessageStore;
  readUser: ReadUser;
  findOther: FindOther;
  notify: Notify;
  whoIsOnline: WhoIsOnline;
  limiter: Limiter;
  maxMembers: number;
  /** How long a process keeps a group's members (READ_CACHE_MS). */
  cacheMs: number;
}

export type Groups = ReturnType<typeof createGroups>;

export function createGroups(deps: GroupsDeps) {
  const { store, readUser, notify } = deps;
  const kept = createReadCache({ ttlMs: deps.cacheMs, maxEntries: 10_000 });
  const writtenListeners: ((conv: string) => void)[] = [];

  /** The group's document (members, counters as last written), or null when it is not a group. */
  function readGroup(conv: string): Promise<ConversationDoc | null> {
    if (!isGroupConversation(conv)) return Promise.resolve(null);
    return kept.get(conv, async () => {
      const doc = await ConversationModel.findById(conv).lean<ConversationDoc>().exec();
      return doc?.group === true ? doc : null;
    });
  }

  /** A membership changed: dropped here, and told to the other processes (server.ts). */
  function changed(conv: string) {
    kept.invalidate(conv);
    for (const listener of writtenListeners) listener(conv);
  }

  async function groupView(doc: ConversationDoc): Promise<GroupView> {
    const users = await Promise.all(doc.participants.map((id) => readUser(id)));
    const members = users.flatMap((u) => (u ? [userView(party(u))] : []));
    return { _id: doc._id, title: members.map((m) => m.username).join(', '), members };
  }

  /** The members named, found and allowed, or why not. `actor` adds them. */
  async function resolveNames(actor: Party, names: string[], already: string[]): Promise<{ ok: true; users: UserDocument[] } | Refusal> {
    const users: UserDocument[] = [];
    for (const name of names) {
      const user = await deps.findOther({ username: name });
      if (!user) return refuse('notFound', 'groups.error.unknownUser', { field: 'to', vars: { username: name.slice(0, 64) } });
      const id = user._id.toString();
      if (id === actor.id || already.includes(id) || users.some((u) => u._id.equals(user._id))) continue;
      // Like a message to them: it says no more than that they cannot be added.
      if (isBlockedBy(user, actor.id)) return refuse('blocked', 'groups.error.cannotAdd', { field: 'to', vars: { username: user.username } });
      users.push(user);
    }
    return { ok: true, users };
  }

  async function consume(actor: Party): Promise<Refusal | undefined> {
    const limit = await deps.limiter.consume(actor.id);
    if (limit.ok) return undefined;
    return refuse('rateLimited', 'messaging.error.rateLimited', { retryAfter: limit.retryAfterSeconds, vars: { seconds: limit.retryAfterSeconds } });
  }

  /** Puts the group into (or out of) members' inboxes: one entry each, never touched per message. */
  async function writeEntries(conv: string, members: string[], joined: boolean) {
    await Promise.all(
      members.map((owner) =>
        store.serial.run(`inbox:${owner}`, () =>
          InboxModel.updateOne(
            { _id: owner },
            joined ? { $set: { [`e.${conv}.conv`]: conv, [`e.${conv}.group`]: true, [`e.${conv}.at`]: new Date() }, $inc: { v: 1 } } : { $unset: { [`e.${conv}`]: '' }, $inc: { v: 1 } },
            { upsert: joined },
          ).exec(),
        ),
      ),
    );
    for (const owner of members) store.inboxChanged(owner);
  }

  /**
   * Changes the members, conditional on the membership version read: a change made
   * meanwhile (here or on another process) makes it read again and decide again.
   */
  async function changeMembers(conv: string, decide: (doc: ConversationDoc) => Promise<{ participants: string[] } | Refusal>): Promise<{ ok: true; doc: ConversationDoc; before: string[] } | Refusal> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const doc = await ConversationModel.findById(conv).lean<ConversationDoc>().exec();
      if (!doc || doc.group !== true) return refuse('notFound', 'groups.error.notFound');
      const decided = await decide(doc);
      if ('ok' in decided) return decided;
      const mv = doc.mv ?? 0;
      const result = await store.serial.run(`conv:${conv}`, () =>
        ConversationModel.updateOne({ _id: conv, mv }, { $set: { participants: decided.participants, mv: mv + 1, updatedAt: new Date() } }).exec(),
      );
      if (result.matchedCount === 1) {
        changed(conv);
        return { ok: true, doc: { ...doc, participants: decided.participants, mv: mv + 1 }, before: doc.participants };
      }
    }
    return refuse('busy', 'messaging.error.busy', { retryAfter: 500 });
  }

  /** New members start with nothing unread: everything said before they came counts read. */
  async function startRead(conv: string, members: string[]) {
    const max: Record<string, number> = {};
    for (const member of members) {
      const result = await store.counters.markRead(conv, member, undefined);
      max[`readN.${entryKey(member)}`] = result.readN;
      max[`readSeq.${entryKey(member)}`] = result.last;
    }
    await store.serial.run(`conv:${conv}`, () => ConversationModel.updateOne({ _id: conv }, { $max: max }).exec());
  }

  /** The messages page's rows for the owner's groups: read from each group's document, by `_id`. */
  async function summaries(owner: string, groupIds: string[], joinedAt: Map<string, Date>): Promise<GroupSummary[]> {
    const rows = await Promise.all(
      groupIds.map(async (conv): Promise<GroupSummary | null> => {
        const doc = await store.readConversation(conv);
        if (!doc || doc.group !== true || !doc.participants.includes(owner)) return null;
        const counts = await store.counters.current(conv);
        return { group: await groupView(doc), unread: groupUnreadOf(counts, owner), last: decodeLast(doc.lastMsg), at: joinedAt.get(conv) ?? new Date(0) };
      }),
    );
    return rows.filter((r): r is GroupSummary => r !== null);
  }

  /**
   * Members' new unread counts, once per group per turn of the event loop however many of
   * its messages a batch stored: the latest counts win (they only grow).
   */
  const unreadDue = new Map<string, { title: string; members: Set<string>; counts: ConversationCounts }>();
  function unreadLater(conv: string, title: string, members: string[], counts: ConversationCounts) {
    const due = unreadDue.get(conv);
    if (due) {
      for (const m of members) due.members.add(m);
      if (counts.n >= due.counts.n) due.counts = counts;
      return;
    }
    unreadDue.set(conv, { title, members: new Set(members), counts });
    setImmediate(() => {
      const now = unreadDue.get(conv)!;
      unreadDue.delete(conv);
      for (const member of now.members) {
        void store
          .unreadTotal(member, { conv, counts: now.counts })
          .then(({ total, v }) => notify([member], 'unread', { v, total, user: { _id: conv, username: now.title }, conversation: conv, count: groupUnreadOf(now.counts, member) }))
          .catch(() => undefined);
      }
    });
  }

  /** The group, when `userId` is a member of it now. */
  async function isMember(conv: string, userId: string): Promise<ConversationDoc | null> {
    const doc = await readGroup(conv);
    return doc && doc.participants.includes(userId) ? doc : null;
  }

  return {
    readGroup,
    /** Everyone in these groups (from the kept copies). */
    async membersOf(groupIds: string[]): Promise<string[]> {
      const docs = await Promise.all(groupIds.map(readGroup));
      return docs.flatMap((doc) => doc?.participants ?? []);
    },
    groupView,
    summaries,
    /** Called with a group's id whenever its members change here. */
    onWritten(listener: (conv: string) => void) {
      writtenListeners.push(listener);
    },
    /** Another process changed this group's members. */
    forget(conv: string) {
      kept.invalidate(conv);
    },

    isMember,

    /** Starts a group of the actor and the members named (they join with nothing unread). */
    async start(actor: Party, names: string[]): Promise<{ ok: true; conv: string } | Refusal> {
      const limited = await consume(actor);
      if (limited) return limited;
      const found = await resolveNames(actor, names, []);
      if (!found.ok) return found;
      const members = [actor.id, ...found.users.map((u) => u._id.toString())];
      if (members.length < 3) return refuse('invalid', 'groups.error.tooFew', { field: 'to' });
      if (members.length > deps.maxMembers) return refuse('invalid', 'groups.error.tooMany', { field: 'to', vars: { max: deps.maxMembers } });
      const conv = `g${crypto.randomBytes(12).toString('hex')}`;
      const now = new Date();
      await ConversationModel.collection.insertOne({
        _id: conv as never,
        participants: members,
        group: true,
        mv: 1,
        createdBy: actor.id,
        seq: 0,
        last: 0,
        n: 0,
        sent: {},
        readN: {},
        readSeq: {},
        createdAt: now,
        updatedAt: now,
      });
      await writeEntries(conv, members, true);
      return { ok: true, conv };
    },

    /** A member adds others (up to the maximum); no one who blocked the actor. */
    async add(actor: Party, conv: string, names: string[]): Promise<{ ok: true; added: string[] } | Refusal> {
      if (!(await isMember(conv, actor.id))) return refuse('notFound', 'groups.error.notFound');
      const limited = await consume(actor);
      if (limited) return limited;
      let adding: UserDocument[] = [];
      const result = await changeMembers(conv, async (doc) => {
        if (!doc.participants.includes(actor.id)) return refuse('notFound', 'groups.error.notFound');
        const found = await resolveNames(actor, names, doc.participants);
        if (!found.ok) return found;
        adding = found.users;
        if (adding.length === 0) return refuse('invalid', 'groups.error.nobodyNew', { field: 'to' });
        const participants = [...doc.participants, ...adding.map((u) => u._id.toString())];
        if (participants.length > deps.maxMembers) return refuse('invalid', 'groups.error.tooMany', { field: 'to', vars: { max: deps.maxMembers } });
        return { participants };
      });
      if (!result.ok) return result;
      const added = adding.map((u) => u._id.toString());
      await startRead(conv, added);
      await writeEntries(conv, added, true);
      return { ok: true, added };
    },

    /** The actor leaves: the group goes from their messages page; the others go on. */
    async leave(actor: Party, conv: string): Promise<{ ok: true } | Refusal> {
      const result = await changeMembers(conv, async (doc) =>
        doc.participants.includes(actor.id) ? { participants: doc.participants.filter((id) => id !== actor.id) } : refuse('notFound', 'groups.error.notFound'),
      );
      if (!result.ok) return result;
      await writeEntries(conv, [actor.id], false);
      return { ok: true };
    },

    /** A page of the group as `viewer` sees it; null when they are not a member. */
    async page(viewer: Party, conv: string, query: { before?: number; after?: number }): Promise<GroupPage | null> {
      const doc = await isMember(conv, viewer.id);
      if (!doc) return null;
      const [slice, me, group] = await Promise.all([store.history(conv, query), readUser(viewer.id), groupView(doc)]);
      const blocked = new Set(me?.blocked ?? []);
      const others = group.members.filter((m) => m._id !== viewer.id);
      // No presence of those who blocked the viewer, as in a pair.
      const users = await Promise.all(others.map((m) => readUser(m._id)));
      const visible = others.filter((_, i) => !(users[i] && isBlockedBy(users[i]!, viewer.id))).map((m) => m._id);
      const online = await deps.whoIsOnline(visible);
      const readSeq: Record<string, number> = {};
      for (const id of doc.participants) readSeq[id] = slice.readSeq[entryKey(id)] ?? 0;
      return {
        group: { ...group, members: group.members.map((m) => ({ ...m, online: online.has(m._id) })) },
        // A blocked member's words never reach the blocker's page: a placeholder holds their place.
        messages: slice.messages.map((m) => (blocked.has(m.from) ? { ...toMessageView(m), content: '', hidden: true } : toMessageView(m))),
        hasOlder: slice.hasOlder,
        hasNewer: slice.hasNewer,
        latestSeq: slice.latestSeq,
        readSeq,
      };
    },

    /**
     * A stored message to every tab of every member but those who blocked its sender;
     * then each member's new unread count (from the counts the batch settled: no read).
     */
    async deliver(message: StoredMessage, sender: Party & { origin?: string }, counts?: ConversationCounts) {
      const doc = await readGroup(message.conv);
      if (!doc) return;
      const group = await groupView(doc);
      const view = toMessageView(message);
      const payload = { content: view.content, friend: userView(sender), message: view, group };
      const others = doc.participants.filter((id) => id !== sender.id);
      const users = await Promise.all(others.map((id) => readUser(id)));
      const hearing = others.filter((_, i) => users[i] && !isBlockedBy(users[i]!, sender.id));
      notify(hearing, 'sendback', payload);
      notify([sender.id], 'sendback', payload, { except: sender.origin });
      if (counts) unreadLater(message.conv, group.title, hearing, counts);
      return { group, hearing };
    },

    /** The reader has seen the group up to `upTo`: their count goes to their tabs, the receipt to every member. */
    async markRead(reader: Party, conv: string, upTo: number | undefined): Promise<{ ok: true; total: number; count: number } | Refusal> {
      const doc = await isMember(conv, reader.id);
      if (!doc) return refuse('notFound', 'groups.error.notFound');
      await store.views.written({ conv });
      const result = await store.counters.markRead(conv, reader.id, upTo);
      const key = entryKey(reader.id);
      // Never past the last stored message: a forged upTo cannot show future messages as seen.
      const readTo = Math.min(upTo ?? result.last, result.last);
      if (result.changed) {
        await store.serial.run(`conv:${conv}`, () => ConversationModel.updateOne({ _id: conv }, { $max: { [`readN.${key}`]: result.readN, [`readSeq.${key}`]: readTo } }).exec());
      }
      const { total, v } = await store.unreadTotal(reader.id);
      if (result.changed) {
        const title = (await groupView(doc)).title;
        notify([reader.id], 'unread', { v, total, user: { _id: conv, username: title }, conversation: conv, count: 0 });
        notify(doc.participants.filter((id) => id !== reader.id), 'read', { user: reader.id, upTo: readTo, conversation: conv });
      }
      return { ok: true, total, count: result.changed ? 0 : groupUnreadOf(await store.counters.current(conv), reader.id) };
    },

    /** Who hears that `typist` is typing in the group: the other members, but not those who blocked them. */
    async typingAudience(conv: string, typist: string): Promise<string[] | null> {
      const doc = await isMember(conv, typist);
      if (!doc) return null;
      const others = doc.participants.filter((id) => id !== typist);
      const users = await Promise.all(others.map((id) => readUser(id)));
      return others.filter((_, i) => users[i] && !isBlockedBy(users[i]!, typist));
    },
  };
}
