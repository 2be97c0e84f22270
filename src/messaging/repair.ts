// On start, before the first send: finishes the batches a crash cut short. A batch's
// journal (message_batches) is written before its messages and removed only once every
// view derived from them is written, so a journal still there names messages that may
// be stored without being counted, paged or in an inbox. Each is looked up by `_id`;
// those stored with the batch's seq are settled into the counters (once: counters.ts)
// and their views written again (idempotent: views.ts). The journal collection holds at
// most a few batches per process, so reading it whole is cheap on either engine.
//
// With several processes (Redis), another live process's batch may be in the middle of
// its insert: only journals older than `minAgeMs` are taken, and a sweep repeats it
// (settling is once per batch in Redis, so two sweepers cannot both count one).
import { findUserById } from '../accounts/user-model.ts';
import type { Logger } from '../log.ts';
import type { ConversationCounters, ConversationCounts } from './counters.ts';
import { MessageBatchModel, MessageModel, type BatchDoc, type StoredMessage } from './models.ts';
import type { Party, ViewWriter } from './views.ts';

export interface RepairDeps {
  counters: ConversationCounters;
  views: ViewWriter;
  log: Logger;
  timeoutMs: number;
  /** Journals younger than this are left alone (0: all, when this process is the only one). */
  minAgeMs?: number;
}

export async function repairBatches(deps: RepairDeps): Promise<number> {
  const cutoff = Date.now() - (deps.minAgeMs ?? 0);
  const journals = (await MessageBatchModel.find().lean<BatchDoc[]>().exec()).filter((j) => !deps.minAgeMs || new Date(j.at).getTime() < cutoff);
  if (journals.length === 0) return 0;
  // In the order they were written (batch ids sort so: group-commit.ts): one process's
  // batches of a conversation are settled oldest first.
  journals.sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
  const names = new Map<string, Promise<Party>>();
  const partyOf = (id: string) => {
    let p = names.get(id);
    if (!p) {
      p = findUserById(id).then((user) => ({ id, username: user?.username ?? '' }));
      names.set(id, p);
    }
    return p;
  };
  let repaired = 0;
  for (const journal of journals) {
    const found = await Promise.all(journal.ids.map((id) => MessageModel.findById(id).lean<StoredMessage>().exec()));
    // A message stored by an earlier batch (a resend refused here as a duplicate) is not this batch's.
    const stored = found.filter((m, i): m is StoredMessage => m !== null && m.seq === journal.seqs[i]);
    const counts = new Map<string, ConversationCounts>();
    for (const { conv, to } of journal.convs) {
      counts.set(conv, await deps.counters.settle(journal._id, conv, stored.filter((m) => m.conv === conv), to, { onStart: true }));
    }
    const parties = new Map<string, Party>();
    for (const m of stored) {
      parties.set(m.from, await partyOf(m.from));
      parties.set(m.to, await partyOf(m.to));
    }
    deps.views.add({ batchId: journal._id, messages: stored, parties, counts });
    repaired += stored.length;
  }
  await deps.views.flush(deps.timeoutMs);
  deps.log.info({ batches: journals.length, messages: repaired }, 'messaging: finished batches cut short by the last stop');
  return repaired;
}
