// Editing and deleting one's own messages (`editmsg`, `deletemsg`). The session decides
// who acts: only the author may, checked against the stored message before anything is
// written. Same rules as sending: the same text checks and length, the same rate limit
// (each edit or deletion costs a point), the same write gate.
//
// What is written, each by exact `_id` (the only filter FerretDB 1.x pushes down):
//   1. the message document: new content and `editedAt` (or empty content and
//      `deletedAt`), and `$inc` of its version `ev`, in one atomic findOneAndUpdate;
//   2. its page: the change beside the entry (`x.q<seq>`, encodeChange), with `$max`,
//      so the latest change wins whatever order writes land in, and the view writer's
//      copy of the original entry, which may still be on its way, cannot undo it;
//   3. the two inbox entries' previews, only when it is the conversation's newest
//      message (the counters' owner knows, without a read), again with `$max`.
// No read-then-write needs a version: the author and the time sent never change, two
// edits are ordered by the atomic `$inc`, and a deletion sorts above every edit
// (DELETED_EV), so an edit crossing a deletion never brings the text back into view.
//
// Unread counts do not change: a deleted unread message stays a "message deleted" line
// where it was, counted until read, so the count matches what the member finds.
// Edits are allowed for `editWindowMs` after sending (MESSAGE_EDIT_WINDOW_MS, 1 hour), deletion
// at any time. The reference systems (../shared/REFERENCES.md) let members edit and delete
// their own chat messages with no window; we keep deletion unlimited (taking something
// back must always be possible) but bound edits, so that a message cannot be rewritten
// long after the other person answered it; "edited" marks every changed message.
// A deletion clears the text from the document too: it is not kept for a restore.
import type { Limiter } from '../http/rate-limits.ts';
import type { EditAck, Failure, MessageView, Notify } from '../realtime/events.ts';
import type { ReadUser } from './members.ts';
import { refuse, toMessageView, type Party, type Refusal } from './message-view.ts';
import {
  DELETED_EV,
  encodeChange,
  encodeLast,
  entryKey,
  InboxModel,
  isGroupConversation,
  MessageModel,
  MessagePageModel,
  pageEntryKey,
  pageId,
  pageNumber,
  type StoredMessage,
} from './models.ts';
import { preview } from './preview.ts';
import { deleteMessageSchema, editMessageSchema, firstIssue } from './schemas.ts';
import type { MessageStore } from './store.ts';
import type { WriteGate } from './write-gate.ts';

export interface EditsDeps {
  store: MessageStore;
  gate: WriteGate;
  limiter: Limiter;
  readUser: ReadUser;
  notify: Notify;
  maxLength: number;
  editWindowMs: number;
}

export type EditResult = Exclude<EditAck, Failure> | Refusal;

export function createEdits(deps: EditsDeps) {
  const { store, gate, notify } = deps;
  const editSchema = editMessageSchema(deps.maxLength);

  /** The stored message, if `actor` may change it; otherwise why not (nothing written). */
  async function ownMessage(actor: Party, id: string, kind: 'edit' | 'delete'): Promise<StoredMessage | Refusal> {
    const limit = await deps.limiter.consume(actor.id);
    if (!limit.ok) return refuse('rateLimited', 'messaging.error.rateLimited', { retryAfter: limit.retryAfterSeconds, vars: { seconds: limit.retryAfterSeconds } });
    const message = await store.findMessage(id);
    // Someone else's message is refused in the same words as a missing one: nothing about it is told.
    if (!message || message.from !== actor.id) return refuse(message ? 'forbidden' : 'notFound', 'chatmore.error.notYours');
    if (message.deletedAt) return refuse('notFound', 'chatmore.error.deleted');
    // A group's message goes to the group (`to` is its id, its preview is the group's): not
    // handled by the writes below, so refused rather than half done.
    if (isGroupConversation(message.conv)) return refuse('forbidden', 'chatmore.error.group');
    if (kind === 'edit' && Date.now() - new Date(message.createdAt).getTime() > deps.editWindowMs) {
      return refuse('tooLate', 'chatmore.error.tooLate', { vars: { minutes: Math.round(deps.editWindowMs / 60_000) } });
    }
    return message;
  }

  /** Writes the change (see the top of this file) and tells every tab of both members. */
  async function apply(message: StoredMessage, change: { content: string; editedAt?: Date; deletedAt?: Date }): Promise<MessageView | Refusal> {
    const update = { $set: change, $inc: { ev: 1 } };
    const after = (await MessageModel.collection.findOneAndUpdate({ _id: message._id as never }, update, { returnDocument: 'after' })) as unknown as StoredMessage | null;
    if (!after) return refuse('notFound', 'chatmore.error.notYours');
    if (after.deletedAt && !change.deletedAt) {
      // A deletion landed first: its empty content stands.
      await MessageModel.collection.updateOne({ _id: message._id as never }, { $set: { content: '' } });
      return refuse('notFound', 'chatmore.error.deleted');
    }
    const ev = change.deletedAt ? DELETED_EV : (after.ev ?? 1);
    const { conv, seq } = after;
    // This process's own pending views of the conversation first, so the copies below land after them.
    await store.views.written({ conv });
    const page = pageId(conv, pageNumber(seq));
    const writes: Promise<unknown>[] = [
      store.serial.run(`page:${page}`, () =>
        MessagePageModel.collection.updateOne(
          { _id: page as never },
          { $max: { [`x.${pageEntryKey(seq)}`]: encodeChange({ ev, ...change, content: change.content }) }, $setOnInsert: { conv, n: pageNumber(seq) } },
          { upsert: true },
        ),
      ),
    ];
    const counts = await store.counters.current(conv);
    if (counts.last === seq) writes.push(...(await previews(after, ev, change)));
    await Promise.all(writes);
    const view = toMessageView(after);
    notify([after.from, after.to], 'msgupdate', { message: view });
    return view;
  }

  /** The newest message changed: both members' inbox previews say so. */
  async function previews(m: StoredMessage, ev: number, change: { content: string; deletedAt?: Date }): Promise<Promise<unknown>[]> {
    const last = encodeLast({ seq: m.seq, at: new Date(m.createdAt), from: m.from, preview: preview(change.content), ev, deleted: change.deletedAt !== undefined });
    const [from, to] = await Promise.all([deps.readUser(m.from), deps.readUser(m.to)]);
    if (!from || !to) return [];
    const entry = (owner: string, other: { _id: unknown; username: string }) => {
      const path = `e.${entryKey(String(other._id))}`;
      // The entry's identity too, in case this lands before the views' first write of it.
      return store.serial.run(`inbox:${owner}`, () =>
        InboxModel.collection.updateOne(
          { _id: owner as never },
          { $max: { [`${path}.last`]: last }, $set: { [`${path}.conv`]: m.conv, [`${path}.user`]: String(other._id), [`${path}.username`]: other.username } },
          { upsert: true },
        ),
      );
    };
    return [entry(m.from, to), entry(m.to, from)];
  }

  async function run(actor: Party, id: string, kind: 'edit' | 'delete', content: string): Promise<EditResult> {
    return (
      gate.cannotWrite() ??
      gate.run(async () => {
        const message = await ownMessage(actor, id, kind);
        if ('ok' in message) return message;
        if (kind === 'edit' && content === message.content) return { ok: true as const, message: toMessageView(message) };
        const now = new Date();
        const view = await apply(message, kind === 'edit' ? { content, editedAt: now } : { content: '', deletedAt: now });
        return 'ok' in view ? view : { ok: true as const, message: view };
      })
    );
  }

  return {
    /** `editmsg`: the author's new text for their message. */
    edit(actor: Party, input: unknown): Promise<EditResult> {
      const parsed = editSchema.safeParse(input);
      if (!parsed.success) return Promise.resolve(refuse('invalid', firstIssue(parsed.error), { vars: { maximum: deps.maxLength } }));
      return run(actor, parsed.data.message_id, 'edit', parsed.data.content);
    },
    /** `deletemsg`: the author takes their message back; "message deleted" stays in its place. */
    remove(actor: Party, input: unknown): Promise<EditResult> {
      const parsed = deleteMessageSchema.safeParse(input);
      if (!parsed.success) return Promise.resolve(refuse('invalid', firstIssue(parsed.error)));
      return run(actor, parsed.data.message_id, 'delete', '');
    },
  };
}
