// The messaging service: one interface over the modules that do each job (sending.ts,
// read-state.ts, history.ts, inbox.ts, presence.ts), built once in server.ts. It knows
// nothing of Socket.IO or HTTP: the socket handlers and the form routes both call it,
// so a message takes the same path through checks, limits and storage either way, and
// neither ever reaches into the store.
import type { Config } from '../config.ts';
import type { Limiter } from '../http/rate-limits.ts';
import type { Notify } from '../realtime/events.ts';
import { findAbout, type FindAbout } from './about.ts';
import { createEdits } from './edits.ts';
import { setRequestsByDefault } from './models.ts';
import { createRequests, type OnMessageRequest } from './requests.ts';
import type { GroupCommit } from './group-commit.ts';
import { createGroups } from './groups.ts';
import { createHistory } from './history.ts';
import { createInbox, type WhoIsOnline } from './inbox.ts';
import { createFindOther, type ReadUser } from './members.ts';
import { refuse, type Party, type Refusal } from './message-view.ts';
import { createPresenceWatch } from './presence.ts';
import { createReadState } from './read-state.ts';
import { firstIssue, privateMessageSchema } from './schemas.ts';
import { createSending, type SendResult } from './sending.ts';
import type { MessageStore } from './store.ts';
import { createWriteGate } from './write-gate.ts';

export type { Notify, WhoIsOnline };
export type { ConversationSummary, InboxView } from './inbox.ts';
export type { HistoryView } from './history.ts';
export type { SendResult, Sender } from './sending.ts';
export { messageId, party, toMessageView, userView, type Refusal } from './message-view.ts';

export interface Deliveries {
  notify: Notify;
  whoIsOnline: WhoIsOnline;
}

export interface MessagingDeps {
  config: Pick<Config, 'limits'> & { readCacheMs?: number };
  /** Reads a user by id (the recipient of every send): accounts/user-cache.ts keeps copies briefly. */
  readUser?: ReadUser;
  limiters: { message: Limiter; group?: Limiter };
  deliveries: Deliveries;
  store: MessageStore;
  commit: GroupCommit;
  /**
   * False while the database is away. Writes are then refused at once: the driver would
   * otherwise hold each one for its whole server-selection timeout before failing.
   */
  isDatabaseConnected?: () => boolean;
  /** The post a message is about (about.ts reads it by `_id`). */
  findAbout?: FindAbout;
  /** A member's first message from a stranger (a request) was stored: the notifications hook. */
  onMessageRequest?: OnMessageRequest;
}

export type MessagingService = ReturnType<typeof createMessagingService>;

export function createMessagingService(deps: MessagingDeps) {
  setRequestsByDefault(deps.config.limits.messageRequestsByDefault);
  const { store, commit } = deps;
  const { notify, whoIsOnline } = deps.deliveries;
  const isOnline = async (userId: string) => (await whoIsOnline([userId])).has(userId);
  const findOther = createFindOther(deps.readUser);
  const gate = createWriteGate({ timeoutMs: deps.config.limits.messageStoreTimeoutMs, isDatabaseConnected: deps.isDatabaseConnected });
  const maxLength = deps.config.limits.messageMaxLength;
  const readUser = deps.readUser ?? ((id: string) => findOther({ id }));
  const groups = createGroups({
    store,
    readUser,
    findOther,
    notify,
    whoIsOnline,
    limiter: deps.limiters.group ?? deps.limiters.message,
    maxMembers: deps.config.limits.groupMaxMembers,
    cacheMs: deps.config.readCacheMs ?? 1000,
  });
  const sending = createSending({ maxLength, store, commit, gate, limiter: deps.limiters.message, readUser, findOther, notify, isOnline, groups, whoIsOnline, findAbout: deps.findAbout ?? findAbout, onMessageRequest: deps.onMessageRequest });
  const readState = createReadState({ store, gate, findOther, notify, groups });
  const edits = createEdits({ store, gate, limiter: deps.limiters.message, readUser, notify, maxLength, editWindowMs: deps.config.limits.messageEditWindowMs });

  return {
    maxLength,
    send: sending.send,
    requests: createRequests({ store, findOther, notify }),
    editMessage: edits.edit,
    deleteMessage: edits.remove,
    markRead: readState.markRead,
    markReadWith: readState.markReadWith,
    history: createHistory({ store, isOnline }),
    inbox: createInbox({ store, whoIsOnline, groups: groups.summaries }),
    watchablePresence: createPresenceWatch({ store, whoIsOnline, groupMembers: groups.membersOf }),
    unreadTotal: (owner: Party) => store.unreadTotal(owner.id),
    markBlockedBy: (owner: string, blockerId: string, blocked: boolean) => store.markBlockedBy(owner, blockerId, blocked),
    findOther,
    groups,
    addToGroup: async (owner: Party, conv: string, names: string[]) => gate.cannotWrite() ?? (await gate.run(() => groups.add(owner, conv, names))),
    leaveGroup: async (owner: Party, conv: string) => gate.cannotWrite() ?? (await gate.run(() => groups.leave(owner, conv))),
    /** Starts a group with the members named, then sends its first message (the compose form). */
    startGroup: async (owner: Party, names: string[], content: string): Promise<(SendResult & { conv?: string }) | Refusal> => {
      // The first message is checked before the group exists: a refused one leaves nothing behind.
      const first = privateMessageSchema(maxLength).safeParse({ conversation: `g${'0'.repeat(24)}`, content });
      if (!first.success) return refuse('invalid', firstIssue(first.error), { field: 'content', vars: { maximum: maxLength } });
      const started = gate.cannotWrite() ?? (await gate.run(() => groups.start(owner, names)));
      if (!started.ok) return started;
      return { ...(await sending.send(owner, { conversation: started.conv, content })), conv: started.conv };
    },
    /**
     * For shutdown: refuses new sends and mark-reads from now on, and resolves once those
     * already under way are stored (and so acknowledged) and what derives from them is
     * written, or after `timeoutMs`.
     */
    drain: async (timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      await gate.close(timeoutMs);
      await store.views.flush(Math.max(0, deadline - Date.now()));
    },
    /** Sends and mark-reads under way (diagnostics, tests). */
    get writesInFlight() {
      return gate.size;
    },
  };
}
