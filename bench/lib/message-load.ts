// Load on a messaging server through real clients: a closed loop (each pair keeps one
// message in flight: capacity) and an open loop (messages on a fixed schedule whatever
// the server does: latency at an offered rate). Every message is followed from send to
// acknowledgement and to the recipient's sendback, so the same run also says whether
// each was acknowledged once and delivered once.
import { cpuPercent, otherProcessesCpu, sampleCpuAccount, sampleSelf, type CpuAccount, type ProcessSample } from './processes.ts';
import type { ClientPool, ConnectedUser, SendbackPayload } from './message-clients.ts';
import { sleep, summarize, type LatencySummary } from './stats.ts';

export interface Pair {
  a: ConnectedUser;
  b: ConnectedUser;
}

export interface Integrity {
  sent: number;
  ackedOnce: number;
  /** Answered { ok: false } or not at all within the message timeout. */
  notAcked: number;
  ackErrors: string[];
  deliveredOnce: number;
  notDelivered: number;
  deliveredMoreThanOnce: number;
  /** Sendbacks that reached someone other than the recipient. */
  misdelivered: number;
  /** True when every sent message was acknowledged once and delivered once, to its recipient. */
  ok: boolean;
  /**
   * The content key ("b<phase>.<n>") of every acknowledged message, so a server with
   * storage can be asked afterwards whether each was stored exactly once.
   */
  ackedKeys: string[];
}

interface Tracked {
  seq: number;
  to: ConnectedUser;
  scheduledAt: number;
  sentAt: number;
  ackAt?: number;
  acks: number;
  ackError?: string;
  deliveredAt?: number;
  deliveries: number;
  /** Times the server answered `busy` before accepting it; the first of those answers, from the send. */
  refusals: number;
  busyAnswerMs?: number;
  settled: boolean;
  settle: () => void;
  done: Promise<void>;
}

export interface LoadOptions {
  contentLength: number;
  /** A message neither acknowledged nor delivered after this long counts as lost. */
  messageTimeoutMs?: number;
  /** The server's process, for its CPU share. */
  sampleServer?: () => ProcessSample | undefined;
}

let phaseCounter = 0;
/** Every message's content starts with its key and a space; the rest is padding. */
export const CONTENT_KEY = /^b(\d+)\.(\d+) /;
const contentKey = (phase: number, seq: number) => `b${phase}.${seq}`;

/** Follows every message of one phase. */
class Ledger {
  readonly phase = ++phaseCounter;
  readonly entries: Tracked[] = [];
  private readonly pending = new Set<Tracked>();
  private misdelivered = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly contentLength: number,
    private readonly timeoutMs: number,
  ) {
    // One sweeper instead of a timer per message: cheap at tens of thousands of messages.
    this.sweeper = setInterval(() => this.expire(), Math.min(500, timeoutMs));
  }

  send(from: ConnectedUser, to: ConnectedUser, scheduledAt: number): Tracked {
    const seq = this.entries.length;
    let settle!: () => void;
    const done = new Promise<void>((resolve) => (settle = resolve));
    const entry: Tracked = { seq, to, scheduledAt, sentAt: performance.now(), acks: 0, deliveries: 0, refusals: 0, settled: false, settle, done };
    this.entries.push(entry);
    this.pending.add(entry);
    const head = `${contentKey(this.phase, seq)} `;
    const content = head.padEnd(this.contentLength, 'x');
    // As the browser's outbox does: a `busy` refusal is sent again after the delay the
    // server asked for, with the same client id (stored once however often it is sent);
    // a passing `unavailable` (the database away or not answering in time) after a second.
    const payload = { to_user: to.user.id, content, client_id: contentKey(this.phase, seq) };
    const attempt = () =>
      from.socket.timeout(this.timeoutMs).emit('privatemsg', payload, (err: Error | null, answer: unknown) => {
        const reply = answer as { ok?: unknown; error?: unknown; code?: unknown; retryAfter?: unknown } | undefined;
        if (!err && reply?.ok === false && reply.code === 'busy') {
          entry.refusals += 1;
          entry.busyAnswerMs ??= performance.now() - entry.sentAt;
          setTimeout(attempt, Number(reply.retryAfter) || 100);
          return;
        }
        if (!err && reply?.ok === false && reply.code === 'unavailable') {
          entry.refusals += 1;
          setTimeout(attempt, 1000);
          return;
        }
        entry.acks += 1;
        if (err) entry.ackError = 'no acknowledgement';
        else if (reply?.ok !== true) entry.ackError = String(reply?.error ?? JSON.stringify(answer));
        else entry.ackAt ??= performance.now();
        this.check(entry);
      });
    attempt();
    return entry;
  }

  receive(receiver: ConnectedUser, payload: SendbackPayload): void {
    const content = typeof payload?.message?.content === 'string' ? payload.message.content : payload?.content;
    const match = typeof content === 'string' ? CONTENT_KEY.exec(content) : null;
    if (!match || Number(match[1]) !== this.phase) return;
    const entry = this.entries[Number(match[2])];
    if (!entry) return;
    if (receiver !== entry.to) {
      this.misdelivered += 1;
      return;
    }
    entry.deliveries += 1;
    entry.deliveredAt ??= performance.now();
    this.check(entry);
  }

  private check(entry: Tracked): void {
    if (entry.settled) return;
    if (entry.ackError || (entry.ackAt !== undefined && entry.deliveredAt !== undefined)) this.finish(entry);
  }

  private finish(entry: Tracked): void {
    entry.settled = true;
    this.pending.delete(entry);
    entry.settle();
  }

  private expire(): void {
    // Retried sends get the timeout once more per refusal.
    const oldest = performance.now() - this.timeoutMs;
    for (const entry of this.pending) if (entry.sentAt + entry.refusals * this.timeoutMs < oldest) this.finish(entry);
  }

  /** Waits for every message to be answered and delivered, or for the timeout to give up on it. */
  async drain(): Promise<void> {
    await Promise.all(this.entries.map((entry) => entry.done));
    clearInterval(this.sweeper);
  }

  integrity(): Integrity {
    const ackErrors = new Map<string, number>();
    let ackedOnce = 0;
    let deliveredOnce = 0;
    let deliveredMoreThanOnce = 0;
    for (const entry of this.entries) {
      if (entry.ackError) ackErrors.set(entry.ackError, (ackErrors.get(entry.ackError) ?? 0) + 1);
      else if (entry.acks === 1) ackedOnce += 1;
      if (entry.deliveries === 1) deliveredOnce += 1;
      if (entry.deliveries > 1) deliveredMoreThanOnce += 1;
    }
    const sent = this.entries.length;
    return {
      sent,
      ackedOnce,
      notAcked: sent - ackedOnce,
      ackErrors: [...ackErrors].map(([text, n]) => `${n} × ${text}`),
      deliveredOnce,
      notDelivered: this.entries.filter((e) => e.deliveries === 0).length,
      deliveredMoreThanOnce,
      misdelivered: this.misdelivered,
      ackedKeys: this.entries.filter((e) => !e.ackError && e.ackAt !== undefined).map((e) => contentKey(this.phase, e.seq)),
      ok: sent > 0 && ackedOnce === sent && deliveredOnce === sent && this.misdelivered === 0,
    };
  }
}

/** Pairs up the clients in order: 0 with 1, 2 with 3, … */
export function pairUp(clients: ConnectedUser[]): Pair[] {
  const pairs: Pair[] = [];
  for (let i = 0; i + 1 < clients.length; i += 2) pairs.push({ a: clients[i]!, b: clients[i + 1]! });
  return pairs;
}

export interface CapacityResult {
  pairs: number;
  /** Messages acknowledged and delivered per second, in the measuring window. */
  messagesPerSecond: number;
  completed: number;
  /** Send to the later of acknowledgement and delivery, in the measuring window. */
  roundTrip: LatencySummary;
  serverCpuPercent: number;
  clientCpuPercent: number;
  /** CPU taken meanwhile by processes outside the bench, in % of one core. */
  otherCpuPercent: number;
  integrity: Integrity;
}

/** What the measured server, the clients and everything else on the machine used in a window. */
interface CpuWindow {
  server?: ProcessSample;
  client: ProcessSample;
  machine?: CpuAccount;
}

function openCpuWindow(sampleServer?: () => ProcessSample | undefined): CpuWindow {
  return { server: sampleServer?.(), client: sampleSelf(), machine: sampleCpuAccount() };
}

function closeCpuWindow(from: CpuWindow, sampleServer?: () => ProcessSample | undefined) {
  const to = openCpuWindow(sampleServer);
  const serverCpuPercent = cpuPercent(from.server, to.server);
  return {
    serverCpuPercent,
    clientCpuPercent: cpuPercent(from.client, to.client),
    // The server is a live child: not yet in our reaped-children account, so take it out here.
    otherCpuPercent: Math.max(0, otherProcessesCpu(from.machine, to.machine) - (Number.isFinite(serverCpuPercent) ? serverCpuPercent : 0)),
  };
}

/** Each pair keeps exactly one message in flight, alternating direction, for warmup + measure. */
export async function closedLoop(
  pool: ClientPool,
  pairs: Pair[],
  options: LoadOptions & { warmupMs: number; measureMs: number },
): Promise<CapacityResult> {
  const ledger = new Ledger(options.contentLength, options.messageTimeoutMs ?? 10_000);
  pool.onSendback((receiver, payload) => ledger.receive(receiver, payload));
  let stopped = false;
  const window = { from: Number.POSITIVE_INFINITY, to: Number.POSITIVE_INFINITY };

  const workers = pairs.map(async ({ a, b }) => {
    for (let turn = 0; !stopped; turn++) {
      const [from, to] = turn % 2 === 0 ? [a, b] : [b, a];
      const entry = ledger.send(from, to, performance.now());
      await entry.done;
      // Lost messages stall a pair for the whole timeout; carry on so the loss is counted, not hidden.
    }
  });

  await sleep(options.warmupMs);
  window.from = performance.now();
  const cpuFrom = openCpuWindow(options.sampleServer);
  await sleep(options.measureMs);
  window.to = performance.now();
  const cpu = closeCpuWindow(cpuFrom, options.sampleServer);
  stopped = true;
  await Promise.all(workers);
  await ledger.drain();
  pool.onSendback(undefined);

  const inWindow: number[] = [];
  for (const entry of ledger.entries) {
    if (entry.ackError || entry.ackAt === undefined || entry.deliveredAt === undefined) continue;
    const completedAt = Math.max(entry.ackAt, entry.deliveredAt);
    if (completedAt >= window.from && completedAt <= window.to) inWindow.push(completedAt - entry.sentAt);
  }
  return {
    pairs: pairs.length,
    messagesPerSecond: inWindow.length / ((window.to - window.from) / 1000),
    completed: inWindow.length,
    roundTrip: summarize(inWindow),
    ...cpu,
    integrity: ledger.integrity(),
  };
}

export interface LatencyResult {
  offeredRate: number;
  /** Messages actually sent per second over the measuring window. */
  achievedRate: number;
  /** Send to acknowledgement, from the moment the schedule said to send. */
  ack: LatencySummary;
  /** Send to the recipient's sendback, from the moment the schedule said to send. */
  delivery: LatencySummary;
  /** How late the sender itself was against its schedule: large values mean the client limited the run. */
  senderLag: LatencySummary;
  /** Sends refused as busy at least once (then retried until stored), and how fast that answer came. */
  refused: number;
  busyAnswer: LatencySummary;
  /** Acknowledgement of the sends accepted at their first attempt. */
  acceptedAck: LatencySummary;
  serverCpuPercent: number;
  clientCpuPercent: number;
  otherCpuPercent: number;
  integrity: Integrity;
}

/**
 * Sends on a fixed schedule (rate per second, round robin over the pairs) no matter how
 * slowly the server answers. Latency counts from the scheduled time, so a server that
 * falls behind shows it rather than slowing the sender down (no coordinated omission).
 */
export async function openLoop(
  pool: ClientPool,
  pairs: Pair[],
  options: LoadOptions & { rate: number; warmupMs: number; measureMs: number },
): Promise<LatencyResult> {
  const ledger = new Ledger(options.contentLength, options.messageTimeoutMs ?? 10_000);
  pool.onSendback((receiver, payload) => ledger.receive(receiver, payload));
  const interval = 1000 / options.rate;
  const total = Math.round((options.rate * (options.warmupMs + options.measureMs)) / 1000);
  const start = performance.now();
  const measureFrom = start + options.warmupMs;
  let cpuFrom: CpuWindow | undefined;

  for (let i = 0; i < total; ) {
    const now = performance.now();
    while (i < total && start + i * interval <= now) {
      const scheduledAt = start + i * interval;
      if (scheduledAt >= measureFrom) cpuFrom ??= openCpuWindow(options.sampleServer);
      const pair = pairs[i % pairs.length]!;
      const forward = Math.floor(i / pairs.length) % 2 === 0;
      ledger.send(forward ? pair.a : pair.b, forward ? pair.b : pair.a, scheduledAt);
      i += 1;
    }
    if (i < total) await sleep(Math.max(0, start + i * interval - performance.now()));
  }
  const sendingEnded = performance.now();
  const cpu = closeCpuWindow(cpuFrom ?? openCpuWindow(options.sampleServer), options.sampleServer);
  await ledger.drain();
  pool.onSendback(undefined);

  const measured = ledger.entries.filter((e) => e.scheduledAt >= measureFrom);
  const ok = measured.filter((e) => !e.ackError);
  return {
    offeredRate: options.rate,
    achievedRate: measured.length / ((sendingEnded - measureFrom) / 1000),
    ack: summarize(ok.filter((e) => e.ackAt !== undefined).map((e) => e.ackAt! - e.scheduledAt)),
    delivery: summarize(ok.filter((e) => e.deliveredAt !== undefined).map((e) => e.deliveredAt! - e.scheduledAt)),
    senderLag: summarize(measured.map((e) => e.sentAt - e.scheduledAt)),
    refused: measured.filter((e) => e.refusals > 0).length,
    busyAnswer: summarize(measured.filter((e) => e.busyAnswerMs !== undefined).map((e) => e.busyAnswerMs!)),
    acceptedAck: summarize(ok.filter((e) => e.refusals === 0 && e.ackAt !== undefined).map((e) => e.ackAt! - e.scheduledAt)),
    ...cpu,
    integrity: ledger.integrity(),
  };
}
