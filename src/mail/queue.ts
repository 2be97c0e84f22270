// The persisted mail queue and its worker. A mail is a document first (enqueue), sent
// after: nothing that asks for a mail waits on the SMTP server, a server that is down or
// slow only holds up this worker, and a restart picks up where the last process stopped.
//
// Every process runs a worker. Each attempt is claimed by inserting `<job>#<attempt>`
// into mail_claims (models.ts): exactly one process wins it, on MongoDB and FerretDB
// alike, so several processes never send one mail twice. The one case left is a process
// that dies after the SMTP server took the mail but before it deleted the job: after the
// claim's lease another process sends it again (same Message-ID). At-least-once there is
// the honest promise; losing it would be worse.
//
// A process's list of due jobs can be out of date by the time it claims one: another may
// have sent it, deleted it and then its claims. So the winner of a claim reads the job
// again (by `_id`) before sending; the sender deletes the job before its claims, so a
// claim won after they are gone always finds the job gone too.
import crypto from 'node:crypto';
import { isDuplicateKey } from '../db/errors.ts';
import type { Logger } from '../log.ts';
import { MailClaimModel, MailJobModel } from './models.ts';
import type { MailTransport, OutgoingMail } from './transport.ts';

export interface QueuedMail extends OutgoingMail {
  kind: string;
}

export interface MailQueueOptions {
  transport: MailTransport;
  log: Logger;
  pollMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  maxAttempts: number;
  /** How long a claim holds before another process may take the job over (its holder died). */
  leaseMs: number;
  /** False while the database is away: the worker skips its turn rather than log failures. */
  isDatabaseConnected?: () => boolean;
}

export interface MailQueue {
  /** Stores the mail for sending. The same id twice stores it once. */
  enqueue(mail: QueuedMail): Promise<void>;
  start(): void;
  /**
   * Stops polling and waits for the attempt under way, at most `timeoutMs`: one stuck on a
   * slow SMTP server is left to another process (or the next start) once its claim's lease ends.
   */
  stop(timeoutMs?: number): Promise<void>;
  /** Runs one pass now (tests, and after an enqueue). */
  runOnce(): Promise<void>;
}

/** Jobs taken per pass: one pass should not hold a process's event loop for long. */
const BATCH = 20;
const NEVER = new Date('9999-12-31T00:00:00Z');

export function retryDelayMs(attempts: number, baseMs: number, maxMs: number): number {
  const exact = Math.min(maxMs, baseMs * 2 ** Math.min(attempts, 30));
  // ±20 %: many mails that failed together do not all come back together.
  return Math.round(exact * (0.8 + Math.random() * 0.4));
}

export function createMailQueue(options: MailQueueOptions): MailQueue {
  const { transport, log } = options;
  const worker = crypto.randomBytes(6).toString('hex');
  const isConnected = options.isDatabaseConnected ?? (() => true);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = true;
  /** Set by stop(): a pass under way ends after the attempt in hand. */
  let closing = false;

  async function claim(jobId: string, attempts: number): Promise<boolean> {
    try {
      await MailClaimModel.create({ _id: `${jobId}#${attempts}`, at: new Date(), by: worker });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /** Another process claimed this attempt and never finished it: let the next attempt be claimed. */
  async function releaseIfAbandoned(jobId: string, attempts: number): Promise<void> {
    const held = await MailClaimModel.findById(`${jobId}#${attempts}`).lean().exec();
    if (held && held.at.getTime() + options.leaseMs < Date.now()) {
      await MailJobModel.updateOne({ _id: jobId, attempts }, { $set: { attempts: attempts + 1 } }).exec();
    }
  }

  async function forgetClaims(jobId: string, attempts: number): Promise<void> {
    for (let n = 0; n <= attempts; n++) await MailClaimModel.deleteOne({ _id: `${jobId}#${n}` }).exec();
  }

  async function attempt(job: { _id: string; to: string; subject: string; text: string; html?: string | null; headers?: unknown; kind: string; attempts: number }): Promise<void> {
    if (!(await claim(job._id, job.attempts))) return releaseIfAbandoned(job._id, job.attempts);
    const current = await MailJobModel.findById(job._id, { attempts: 1 }).lean<{ attempts: number }>().exec();
    if (current?.attempts !== job.attempts) {
      await MailClaimModel.deleteOne({ _id: `${job._id}#${job.attempts}` }).exec();
      return;
    }
    try {
      await transport.send({
        id: job._id,
        to: job.to,
        subject: job.subject,
        text: job.text,
        html: job.html ?? undefined,
        headers: (job.headers as Record<string, string> | undefined) ?? {},
      });
    } catch (err) {
      const attempts = job.attempts + 1;
      const giveUp = attempts >= options.maxAttempts;
      const dueAt = giveUp ? NEVER : new Date(Date.now() + retryDelayMs(job.attempts, options.retryBaseMs, options.retryMaxMs));
      const reason = err instanceof Error ? err.message : String(err);
      // Only the holder of this attempt's claim writes the job: no other writer to race.
      await MailJobModel.updateOne(
        { _id: job._id },
        { $set: { attempts, dueAt, lastError: reason.slice(0, 500), ...(giveUp ? { failedAt: new Date() } : {}) } },
      ).exec();
      if (giveUp) log.error({ mail: job._id, kind: job.kind, attempts, reason }, 'mail given up after its last attempt');
      else log.warn({ mail: job._id, kind: job.kind, attempts, retryAt: dueAt, reason }, 'mail not sent; will retry');
      return;
    }
    await MailJobModel.deleteOne({ _id: job._id }).exec();
    await forgetClaims(job._id, job.attempts);
    log.debug({ mail: job._id, kind: job.kind }, 'mail sent');
  }

  async function pass(): Promise<void> {
    if (!isConnected()) return;
    // A scan on FerretDB, but over the backlog only: sent jobs are deleted.
    const due = await MailJobModel.find({ dueAt: { $lte: new Date() } })
      .sort({ dueAt: 1 })
      .limit(BATCH)
      .lean()
      .exec();
    for (const job of due) {
      if (closing) break;
      await attempt(job as never).catch((err: unknown) => log.warn({ err, mail: job._id }, 'mail attempt failed'));
    }
    // A full batch: more may be waiting.
    if (due.length === BATCH) again = true;
  }

  function runOnce(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await pass().catch((err: unknown) => log.warn({ err }, 'mail queue pass failed'));
      } while (again && !closing);
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      void runOnce().finally(schedule);
    }, options.pollMs);
    timer.unref();
  }

  return {
    async enqueue(mail) {
      try {
        const { id, ...rest } = mail;
        await MailJobModel.create({ _id: id, ...rest, attempts: 0, dueAt: new Date(), createdAt: new Date() });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        return;
      }
      if (!stopped) void runOnce();
    },
    start() {
      if (!stopped) return;
      stopped = false;
      closing = false;
      void runOnce();
      schedule();
    },
    async stop(timeoutMs = Infinity) {
      stopped = true;
      closing = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (!running || !Number.isFinite(timeoutMs)) return void (await running);
      let waited: NodeJS.Timeout | undefined;
      await Promise.race([running, new Promise<void>((resolve) => (waited = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(waited);
    },
    runOnce,
  };
}
