// The Socket.IO protocol, typed once for the server, the tests and any TypeScript client.
// The first four events are the original article's (see the contract); the rest extend it.
// Types only: importing this file pulls in nothing of Socket.IO.

/** A message as clients see it: ids as strings, time as ISO-8601. */
export interface MessageView {
  _id: string;
  from: string;
  to: string;
  content: string;
  /** `content` as Markdown rendered on the server (forum/text.ts): safe to insert as HTML. */
  html: string;
  createdAt: string;
  /** Position in the conversation: the cursor for history and catch-up. */
  seq: number;
  clientId: string;
  /** The conversation's id: a pair's, or a group's ("g" + 24 hex digits; then `to` is the group too). */
  conversation?: string;
  /** Set once edited (ISO-8601); a deleted message has `deleted: true` and empty content instead. */
  editedAt?: string;
  deleted?: true;
  /** The post the conversation was started from ("about: <title>"). */
  about?: { _id: string; title: string };
}

/** A group conversation as its members see it. */
export interface GroupInfo {
  _id: string;
  title: string;
  members: UserView[];
}

export interface UserView {
  _id: string;
  username: string;
  avatar: string;
}

export type Failure = {
  ok: false;
  /** Human-readable, in the socket's language. */
  error: string;
  /** Stable machine-readable reason. */
  code: 'invalid' | 'notFound' | 'self' | 'blocked' | 'forbidden' | 'tooLate' | 'rateLimited' | 'busy' | 'unavailable' | 'server';
  /**
   * With `rateLimited`: seconds until a send will be accepted. With `busy` (the server's
   * send queue is full; nothing was stored): milliseconds to wait before sending again.
   */
  retryAfter?: number;
  /** With `invalid`, `notFound` or `self`: which part of the input is wrong. */
  field?: 'to' | 'content';
};

export type SendAck =
  | {
      ok: true;
      online: boolean;
      message: MessageView;
      /** The recipient, as `friend` in sendback: lets the sending tab show the conversation. For a group, the sender. */
      friend: UserView;
      /** A group's message: the group. */
      group?: GroupInfo;
    }
  | Failure;

export type MarkReadAck = { ok: true; total: number; count: number } | Failure;

export interface PrivateMessageInput {
  to_user?: string;
  to_username?: string;
  /** A group conversation's id, instead of to_user / to_username. */
  conversation?: string;
  content: string;
  client_id?: string;
  /** The post the message is about (its id): the message shows "about: <title>". */
  about?: string;
  /** The article's field: accepted and ignored, the session decides the sender. */
  from_user?: unknown;
}

export interface MarkReadInput {
  /** The other person, by id or by username. */
  user?: string;
  username?: string;
  /** A group conversation, instead of user / username. */
  conversation?: string;
  /** The newest seq the reader has seen; older unread messages only are cleared. */
  upTo?: number;
}

export interface SendbackPayload {
  content: string;
  /** The other party as seen by the receiving socket; in a group, the message's sender. */
  friend: UserView;
  message: MessageView;
  /** Present for a group's message: the group, with its members. */
  group?: GroupInfo;
}

export interface UnreadPayload {
  /** Inbox version: ignore a payload whose v is lower than one already applied. */
  v: number;
  total: number;
  /** The conversation whose count changed, and its new count. */
  user: { _id: string; username: string };
  count: number;
  /** A group's count: its id (then `user` names the group: its id and title). */
  conversation?: string;
}

export interface ReadPayload {
  /** Who has read, and up to which seq of the conversation with the receiver. */
  user: string;
  upTo: number;
  /** In a group: which one (absent between two members). */
  conversation?: string;
}

export interface EditMessageInput {
  message_id: string;
  content: string;
}

export interface DeleteMessageInput {
  message_id: string;
}

/** An edit or a deletion, answered like a send. */
export type EditAck = { ok: true; message: MessageView } | Failure;

/** A message was edited or deleted: to every tab of both members. */
export interface MsgUpdatePayload {
  message: MessageView;
}

export interface ClientToServerEvents {
  adduser: (userId: string, ack?: (added: boolean) => void) => void;
  deleteuser: (userId: string, ack?: (removed: boolean) => void) => void;
  privatemsg: (payload: PrivateMessageInput, ack?: (result: SendAck) => void) => void;
  markread: (payload: MarkReadInput, ack?: (result: MarkReadAck) => void) => void;
  editmsg: (payload: EditMessageInput, ack?: (result: EditAck) => void) => void;
  deletemsg: (payload: DeleteMessageInput, ack?: (result: EditAck) => void) => void;
  /** Live online dots: the members this page shows (replaces what the socket watched before). */
  watchpresence: (userIds: string[], ack?: (result: WatchPresenceAck) => void) => void;
  /** The message box turned non-empty (and every few seconds while it stays so), or empty. */
  typing: (payload: TypingInput, ack?: (result: TypingAck) => void) => void;
}

export interface TypingInput {
  to_user?: string;
  conversation?: string;
  typing: boolean;
}

export type TypingAck = { ok: true } | Failure;

export interface TypingPayload {
  user: { _id: string; username: string };
  /** The group conversation typed in; null between two members. */
  conversation: string | null;
  typing: boolean;
}

/** Which of the watched members are online now; `presence` events follow as that changes. */
export type WatchPresenceAck = { ok: true; online: string[] } | Failure;

export interface PresencePayload {
  user: string;
  online: boolean;
}

export interface ServerToClientEvents {
  sendback: (payload: SendbackPayload) => void;
  msgupdate: (payload: MsgUpdatePayload) => void;
  unread: (payload: UnreadPayload) => void;
  read: (payload: ReadPayload) => void;
  presence: (payload: PresencePayload) => void;
  typing: (payload: TypingPayload) => void;
  /** The member's unread notifications changed (notifications/service.ts). */
  notifications: (payload: NotificationsPayload) => void;
}

export interface NotificationsPayload {
  unread: number;
  /** Ignore a payload whose v is lower than one already applied. */
  v: number;
}

/** Between app processes (scale-out), through the Socket.IO adapter. */
export interface InterServerEvents {
  /** Which of these users have a socket on the answering process that counts as online. */
  whoIsOnline: (userIds: string[], ack: (online: string[]) => void) => void;
  /** A user document changed on the sending process: drop any copy kept of it (accounts/user-cache.ts). */
  userWritten: (userId: string) => void;
  /** A group's members changed on the sending process: drop any copy kept of them (messaging/groups.ts). */
  groupWritten: (conv: string) => void;
  /** A session was signed out: close the sockets opened under it. */
  endSession: (sessionId: string) => void;
  /** A member's password changed (or the account went): close their sockets but those of `keepSessionId`. */
  endUserSessions: (userId: string, keepSessionId: string | null) => void;
  /** When each of these members last had a socket on the answering process (epoch ms; now while one is open). */
  lastSeen: (userIds: string[], ack: (seen: Record<string, number>) => void) => void;
}

export interface SocketData {
  userId: string;
  username: string;
  locale: 'en' | 'zh-CN';
  /** The session the socket was opened under, so signing out there can close it. */
  sessionId?: string;
}

export type ServerEvent = keyof ServerToClientEvents;
export type ServerPayload<E extends ServerEvent> = Parameters<ServerToClientEvents[E]>[0];

/** Delivers an event to every connected socket of the given users, except the connection named by `except`. */
export type Notify = <E extends ServerEvent>(userIds: string[], event: E, payload: ServerPayload<E>, options?: { except?: string }) => void;
