// Marking a conversation read: the reader's unread count goes to every tab of theirs, and
// the other member hears how far it was read (read receipts).
import type { Failure, MarkReadAck, Notify } from '../realtime/events.ts';
import type { FindOther } from './members.ts';
import { party, refuse, type Party, type Refusal } from './message-view.ts';
import { conversationId } from './models.ts';
import { firstIssue, markReadSchema } from './schemas.ts';
import type { MessageStore } from './store.ts';
import type { WriteGate } from './write-gate.ts';

export function createReadState(deps: { store: MessageStore; gate: WriteGate; findOther: FindOther; notify: Notify }) {
  const { store, gate, notify } = deps;

  /** Marks the reader's conversation with `other` read up to `upTo`, and tells every tab of both. */
  async function markReadWith(reader: Party, other: Party, upTo: number | undefined) {
    const state = await store.markRead(reader.id, other.id, conversationId(reader.id, other.id), upTo);
    if (state.changed) {
      notify([reader.id], 'unread', { v: state.v, total: state.total, user: { _id: other.id, username: other.username }, count: state.count });
      notify([other.id], 'read', { user: reader.id, upTo: state.readTo });
    }
    return state;
  }

  /** The socket's mark-read: the other person by id or username. */
  async function markRead(reader: Party, input: unknown): Promise<Exclude<MarkReadAck, Failure> | Refusal> {
    const parsed = markReadSchema.safeParse(input);
    if (!parsed.success) return refuse('invalid', firstIssue(parsed.error));
    const { user, username, upTo } = parsed.data;
    return (
      gate.cannotWrite() ??
      gate.run(async () => {
        const other = await deps.findOther({ id: user, username });
        if (!other) return refuse('notFound', 'messaging.error.unknownUser');
        const state = await markReadWith(reader, party(other), upTo);
        return { ok: true as const, total: state.total, count: state.count };
      })
    );
  }

  return { markRead, markReadWith };
}
