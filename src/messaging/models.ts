// The four collections of private messaging. Every hot read is an exact `_id` lookup,
// because FerretDB 1.x pushes nothing else down to SQLite (any other filter, sort or
// limit decodes the whole collection), and exact `_id` reads are just as fast on MongoDB:
//
// - messages       the canonical record, one document per message. Its `_id` is derived
//                  from sender + client id, so a resend can only ever be stored once on
//                  both engines without a secondary unique index.
// - conversations  one per pair, `_id` = "<smaller id>_<larger id>" (a group will take
//                  another id; `participants` already holds any number of members): the
//                  counters that number and count its messages, and how far each member
//                  has read. Every counter is an absolute value written with `$max`, so
//                  a write repeated after a crash, or landing late, changes nothing.
// - message_pages  `_id` = "<conversation>:<page>", a copy of the messages whose seq falls
//                  in that page (PAGE_SIZE per page): a history page is one or two reads.
//                  Entries are keyed by seq (`s.q<seq>`), so writing one again is harmless
//                  and an edit or a deletion replaces one entry in place.
// - inboxes        `_id` = user id: one entry per conversation they are in (preview, time,
//                  how many messages they received and read there). The messages page and
//                  the header badge are one read.
// - message_batches  the group commit's journal: one document per batch, written before
//                  its messages and removed once the views derived from them are written
//                  (see group-commit.ts and repair.ts). Small: a start reads it whole.
import mongoose, { Schema } from 'mongoose';

export const PAGE_SIZE = 50;

const messageFields = {
  _id: { type: String, required: true },
  conv: { type: String, required: true },
  seq: { type: Number, required: true },
  from: { type: String, required: true },
  to: { type: String, required: true },
  content: { type: String, required: true },
  createdAt: { type: Date, required: true },
  clientId: { type: String, required: true },
  // Room for what comes next, without touching stored history: set when edited or deleted.
  editedAt: { type: Date },
  deletedAt: { type: Date },
  /** How many times it was edited or deleted: orders the copies of its latest state (edits.ts). */
  ev: { type: Number },
  /** The post it was started from (a copy of its title, looked up by the server). */
  about: { type: { _id: false, post: String, title: String } },
} as const;

export interface StoredMessage {
  _id: string;
  conv: string;
  /** Position in the conversation, from 1. Gaps are possible (a seq whose insert failed). */
  seq: number;
  from: string;
  to: string;
  content: string;
  createdAt: Date;
  clientId: string;
  editedAt?: Date;
  deletedAt?: Date;
  ev?: number;
  about?: MessageAbout;
}

export interface MessageAbout {
  /** The post's id. */
  post: string;
  title: string;
}

// The index MongoDB would use to read a conversation in seq order (pages copy it for
// FerretDB 1.x, which pushes down only `_id`). A search over one's own messages adds
// its own index later: nothing stored changes for it.
const messageSchema = new Schema(messageFields, { collection: 'messages', versionKey: false });
messageSchema.index({ conv: 1, seq: 1 });
export const MessageModel = mongoose.model('Message', messageSchema);

const conversationSchema = new Schema(
  {
    _id: { type: String, required: true },
    participants: { type: [String], required: true },
    /** Every seq up to this one is accounted for (stored, or lost to a duplicate). */
    seq: { type: Number, required: true, default: 0 },
    /** The seq of the newest stored message. */
    last: { type: Number },
    /** Messages stored. */
    n: { type: Number },
    /** "u<userId>" → messages that member sent here. What they received is n minus this. */
    sent: { type: Schema.Types.Mixed },
    /** "u<userId>" → how many of the messages they received that member has read. */
    readN: { type: Schema.Types.Mixed },
    /** "u<userId>" → the highest seq that user has read: read receipts come from here. */
    readSeq: { type: Schema.Types.Mixed, default: {} },
    /** A group (groups.ts): its members are `participants`, changed only with `mv` (membership version) as read. */
    group: { type: Boolean },
    mv: { type: Number },
    createdBy: { type: String },
    /** A group's newest message, as encodeLast writes it (`$max`): members' inboxes hold no copy of it. */
    lastMsg: { type: String },
    createdAt: { type: Date },
    updatedAt: { type: Date },
  },
  { collection: 'conversations', versionKey: false, minimize: false },
);
export const ConversationModel = mongoose.model('Conversation', conversationSchema);

export interface ConversationDoc {
  _id: string;
  participants: string[];
  seq: number;
  last?: number;
  n?: number;
  sent?: Record<string, number>;
  readN?: Record<string, number>;
  readSeq?: Record<string, number>;
  group?: boolean;
  mv?: number;
  createdBy?: string;
  lastMsg?: string;
}

// A page holds its messages as JSON strings, not subdocuments. Pages are a copy that is
// only ever read whole, never queried inside (the `messages` collection keeps the
// fields), and FerretDB's cost grows with the number of stored values: a page of 50
// messages as subdocuments took 9 ms to read and 13 ms to update, as strings 4 ms.
const pageSchema = new Schema(
  {
    _id: { type: String, required: true },
    conv: { type: String, required: true },
    n: { type: Number, required: true },
    /** Written before entries were keyed by seq: read, never written any more. */
    m: { type: [String], default: undefined },
    /** "q<seq>" → the message, as toPageEntry writes it. */
    s: { type: Schema.Types.Mixed },
    /** "q<seq>" → the message's latest edit or deletion, as encodeChange writes it (edits.ts). */
    x: { type: Schema.Types.Mixed },
  },
  { collection: 'message_pages', versionKey: false },
);
export const MessagePageModel = mongoose.model('MessagePage', pageSchema);

export interface PageDoc {
  _id: string;
  m?: string[];
  s?: Record<string, string>;
  x?: Record<string, string>;
}

/** The key of a message's entry in its page. */
export function pageEntryKey(seq: number): string {
  return `q${seq}`;
}

/** Every entry of a page, whichever format wrote it. */
export function pageEntries(page: PageDoc | null | undefined): string[] {
  return [...(page?.m ?? []), ...Object.values(page?.s ?? {})];
}

/** What an edit or a deletion changed: kept beside the page entry, which the views may still be writing. */
export interface MessageChange {
  ev: number;
  content: string;
  editedAt?: Date;
  deletedAt?: Date;
}

/** A deletion sorts above every edit, so `$max` keeps it whatever order the writes land in. */
export const DELETED_EV = 1e12;
const EV_DIGITS = 13;

/** The change as one string that sorts by its version (`ev`): written with `$max`, the latest wins. */
export function encodeChange(c: MessageChange): string {
  return `${String(c.ev).padStart(EV_DIGITS, '0')} ${JSON.stringify({ content: c.content, editedAt: c.editedAt?.toISOString(), deletedAt: c.deletedAt?.toISOString() })}`;
}

/** The message with its latest change, if the page holds one. */
export function withChange(m: StoredMessage, encoded: string | undefined): StoredMessage {
  if (!encoded) return m;
  const space = encoded.indexOf(' ');
  const ev = Number(encoded.slice(0, space));
  if ((m.ev ?? 0) >= ev && ev < DELETED_EV) return m;
  const c = JSON.parse(encoded.slice(space + 1)) as { content: string; editedAt?: string; deletedAt?: string };
  return {
    ...m,
    ev,
    content: c.content,
    ...(c.editedAt !== undefined && { editedAt: new Date(c.editedAt) }),
    ...(c.deletedAt !== undefined && { deletedAt: new Date(c.deletedAt) }),
  };
}

export function toPageEntry(message: StoredMessage): string {
  return JSON.stringify(message);
}

export function fromPageEntry(entry: string): StoredMessage {
  const parsed = JSON.parse(entry) as StoredMessage;
  return { ...parsed, createdAt: new Date(parsed.createdAt) };
}

const inboxSchema = new Schema(
  {
    _id: { type: String, required: true },
    unreadTotal: { type: Number, default: 0 },
    /** Bumped by every change, so clients can drop unread updates that arrive out of order. */
    v: { type: Number, default: 0 },
    /** The owner turned message requests off (true) or on (false); unset, the forum's default (requests.ts). */
    reqOff: { type: Boolean },
    /** "u<otherUserId>" → InboxEntry. Keyed by id so one entry is updated by path. */
    e: { type: Schema.Types.Mixed, default: {} },
  },
  { collection: 'inboxes', versionKey: false, minimize: false },
);
export const InboxModel = mongoose.model('Inbox', inboxSchema);

export interface InboxEntry {
  conv: string;
  user: string;
  username: string;
  /** Messages received in this conversation, and how many of them are read (absolute, `$max`). */
  r?: number;
  k?: number;
  /** Before r and k: the unread count itself (`$inc`). Read when r is absent. */
  unread?: number;
  /** The last message, as encodeLast writes it: `$max` on this field keeps the newest. */
  last?: string;
  /** This person has blocked the inbox's owner: their presence is not shown to the owner. */
  blockedMe?: boolean;
  /**
   * A group the owner is in (keyed by the conversation id): written when they join or
   * leave, never per message. Its preview is the conversation's `lastMsg` and its unread
   * count comes from the conversation's counters (groups.ts).
   */
  group?: boolean;
  /** Messages the owner sent here (absolute, `$max`): 0 makes it a request (requests.ts). */
  o?: number;
  /** The owner accepted this conversation's request, or ignored it. */
  acc?: boolean;
  ign?: boolean;
  // The fields below are the format before `last` (one conditional update per message,
  // which FerretDB could not push down to SQLite); entries written then still carry them.
  seq?: number;
  at?: Date;
  from?: string;
  preview?: string;
}

export interface LastMessage {
  /** Its seq decides which message is the newest. */
  seq: number;
  at: Date;
  from: string;
  preview: string;
  /** Its latest edit's version (edits.ts): of two previews of one message, the later edit's wins. */
  ev?: number;
  deleted?: boolean;
}

const SEQ_DIGITS = 16; // Number.MAX_SAFE_INTEGER has 16 digits

/**
 * The last message as one string that sorts by seq: the zero-padded seq first, then the
 * rest as JSON. `$max` on it moves an inbox entry only forward (a message with a lower seq
 * arriving late leaves the newer preview) with a plain update whose filter is just `_id`:
 * the only filter FerretDB 1.x runs as an index lookup rather than a collection scan.
 */
export function encodeLast(m: LastMessage): string {
  // An edit's preview adds ".<version>" after the seq: "." sorts above the space, so the
  // edited preview replaces the first one, and a later message's (a higher seq) replaces both.
  const version = m.ev ? `.${String(m.ev).padStart(EV_DIGITS, '0')}` : '';
  const rest = { at: m.at.toISOString(), from: m.from, preview: m.preview, ...(m.deleted && { deleted: true }) };
  return `${String(m.seq).padStart(SEQ_DIGITS, '0')}${version} ${JSON.stringify(rest)}`;
}

export function lastOf(entry: InboxEntry | undefined): LastMessage | undefined {
  if (!entry) return undefined;
  let decoded: LastMessage | undefined;
  if (typeof entry.last === 'string') {
    const space = entry.last.indexOf(' ');
    const rest = JSON.parse(entry.last.slice(space + 1)) as { at: string; from: string; preview: string; deleted?: boolean };
    const [seq, ev] = entry.last.slice(0, space).split('.');
    decoded = { seq: Number(seq), at: new Date(rest.at), from: rest.from, preview: rest.preview, ...(ev !== undefined && { ev: Number(ev) }), ...(rest.deleted && { deleted: true }) };
  }
  const legacy = entry.seq !== undefined && entry.at !== undefined ? { seq: entry.seq, at: new Date(entry.at), from: entry.from ?? '', preview: entry.preview ?? '' } : undefined;
  if (decoded && legacy) return legacy.seq > decoded.seq ? legacy : decoded;
  return decoded ?? legacy;
}

export interface InboxDoc {
  _id: string;
  /** The owner turned message requests off (true: first messages land with the others) or on; unset, the forum's default. */
  reqOff?: boolean;
  /** Before r and k: the total itself. No longer written or read. */
  unreadTotal?: number;
  v?: number;
  e?: Record<string, InboxEntry>;
}

export function unreadOf(entry: InboxEntry | undefined): number {
  if (!entry) return 0;
  if (entry.r !== undefined) return Math.max(0, entry.r - (entry.k ?? 0));
  return Math.max(0, entry.unread ?? 0);
}

/**
 * A conversation someone started with the owner, who has never written there nor
 * accepted it: it waits under Requests, counted apart from the unread badge. Entries
 * written before requests existed carry no `o` and are never requests.
 */
export function isRequest(doc: Pick<InboxDoc, 'reqOff'> | null | undefined, entry: InboxEntry | undefined): boolean {
  return !(doc?.reqOff ?? !requestsByDefault) && entry?.o === 0 && entry.acc !== true;
}

/**
 * Requests for members who have not chosen: the forum's setting (MESSAGE_REQUESTS, on
 * unless set off), which the messaging service sets as it starts. Off until then, so
 * storage used on its own (tools, tests) counts every message as it always did.
 */
let requestsByDefault = false;
export function setRequestsByDefault(on: boolean): void {
  requestsByDefault = on;
}

/** Whether `doc`'s owner keeps requests apart. */
export function requestsOn(doc: Pick<InboxDoc, 'reqOff'> | null | undefined): boolean {
  return !(doc?.reqOff ?? !requestsByDefault);
}

/** The header badge: unread messages outside requests. */
export function unreadTotalOf(doc: InboxDoc | null | undefined): number {
  let total = 0;
  for (const entry of Object.values(doc?.e ?? {})) if (!isRequest(doc, entry)) total += unreadOf(entry);
  return total;
}

const batchSchema = new Schema(
  {
    _id: { type: String, required: true },
    at: { type: Date, required: true },
    /** The ids of the batch's messages. */
    ids: { type: [String], required: true },
    /** The seq each of them was given, in the same order. */
    seqs: { type: [Number], required: true },
    /** Per conversation, the highest seq the batch reserved. */
    convs: { type: [{ _id: false, conv: String, to: Number }], required: true },
  },
  { collection: 'message_batches', versionKey: false },
);
export const MessageBatchModel = mongoose.model('MessageBatch', batchSchema);

export interface BatchDoc {
  _id: string;
  at: Date;
  ids: string[];
  seqs: number[];
  convs: { conv: string; to: number }[];
}

/** A group conversation's id: "g" and 24 hex digits, so it can never be a pair's "<id>_<id>". */
export const GROUP_ID = /^g[0-9a-f]{24}$/;

export function isGroupConversation(conv: string): boolean {
  return GROUP_ID.test(conv);
}

/** What a message's `last` looks like decoded (pairs keep it in inbox entries, groups in the conversation). */
export function decodeLast(encoded: string | undefined): LastMessage | undefined {
  return typeof encoded === 'string' ? lastOf({ conv: '', user: '', username: '', last: encoded }) : undefined;
}

export function conversationId(a: string, b: string): string {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()].sort();
  return `${x}_${y}`;
}

export function pageNumber(seq: number): number {
  return Math.floor(seq / PAGE_SIZE);
}

export function pageId(conv: string, page: number): string {
  return `${conv}:${page}`;
}

/** Inbox entries are keyed by "u" + id: a key never starts with a digit, which some engines read as an array index. */
export function entryKey(otherUserId: string): string {
  return `u${otherUserId}`;
}
