// The targets, checked against whatever the run measured. A target whose Parley
// figure is missing says "not measured yet" and shows the yardstick it will be held to.
import { formatNumber, type Figure } from './report-model.ts';

export interface Target {
  goal: string;
  /** The Parley figure judged, by key. */
  parleyKey: string;
  /** The figure the goal is relative to, if any. */
  yardstickKey?: string;
  /** The bound the Parley figure must meet, from the yardstick when there is one. */
  bound(yardstick: number | undefined): number;
  direction: 'at least' | 'at most';
  unit: string;
  /** What holds the figure back, from our measurements: shown when the target is not met. */
  limitedBy: string;
}

// Issue 11's messaging targets (capacity, latency at 300 and 1,000 msg/s, overload) and
// issue 7's pages, memory and growth targets.
const ENGINE = 'The embedded engine: FerretDB runs every command through one SQLite writer at ≈ 0.5 ms of CPU each, and a message still costs a share of an insert command (its batch), of the journal insert and removal, and of the coalesced updates of its conversation, page and both inboxes; the app and the engine share two cores with the load generator (and, on this machine, with other work: see the run conditions).';

export const TARGETS: Target[] = [
  ...[8, 32, 128].map((pairs) => ({ goal: `Capacity with storage ≥ 4,000 msg/s at ${pairs} pairs`, parleyKey: `parley.capacity.pairs${pairs}`, yardstickKey: `relay.capacity.pairs${pairs}`, bound: () => 4000, direction: 'at least' as const, unit: 'msg/s', limitedBy: ENGINE })),
  { goal: 'Acknowledgement p99 ≤ 25 ms at 300 msg/s offered', parleyKey: 'parley.latency.ack.p99', yardstickKey: 'relay.latency.ack.p99', bound: () => 25, direction: 'at most', unit: 'ms', limitedBy: ENGINE },
  { goal: 'Delivery p99 ≤ 25 ms at 300 msg/s offered', parleyKey: 'parley.latency.delivery.p99', yardstickKey: 'relay.latency.delivery.p99', bound: () => 25, direction: 'at most', unit: 'ms', limitedBy: 'Delivery follows storage (a message is delivered once stored), so it is held back exactly as the acknowledgement is.' },
  { goal: 'Acknowledgement p99 ≤ 50 ms at 1,000 msg/s offered', parleyKey: 'parley.latency.at1000.ack.p99', bound: () => 50, direction: 'at most', unit: 'ms', limitedBy: ENGINE },
  { goal: 'Delivery p99 ≤ 50 ms at 1,000 msg/s offered', parleyKey: 'parley.latency.at1000.delivery.p99', bound: () => 50, direction: 'at most', unit: 'ms', limitedBy: 'Delivery follows storage.' },
  { goal: 'At 2 × capacity offered, p99 of accepted sends ≤ 100 ms', parleyKey: 'parley.overload.acceptedAck.p99', bound: () => 100, direction: 'at most', unit: 'ms', limitedBy: 'The queue admits a send while its estimated wait is under MESSAGE_QUEUE_WAIT_MS; the estimate follows the recent batches, so a sudden slowdown of the engine (other work on the machine) lets a few sends wait longer than estimated.' },
  { goal: 'At 2 × capacity offered, every refused send gets `busy` within 50 ms', parleyKey: 'parley.overload.busyAnswer.max', bound: () => 50, direction: 'at most', unit: 'ms', limitedBy: 'A refusal is decided before any storage work; its time is the socket round trip and the event loop of an app process busy with the accepted sends.' },
  { goal: 'At 2 × capacity offered, the outbox delivers every message in the end', parleyKey: 'parley.overload.deliveredAll', bound: () => 1, direction: 'at least', unit: '', limitedBy: 'A message was lost or delivered twice: see the integrity table.' },
  { goal: 'History page at 1 M messages ≤ 2 × its time at 10 k', parleyKey: 'parley.growth.history.ratio', bound: () => 2, direction: 'at most', unit: '×', limitedBy: 'A history page is three reads by `_id`; a slower large database would point at a lookup that is not an `_id` match.' },
  { goal: 'Board page at 1 M posts ≤ 2 × its time at 10 k', parleyKey: 'parley.growth.board.ratio', bound: () => 2, direction: 'at most', unit: '×', limitedBy: 'A board page reads the board list and one to three buckets of its posts by `_id`; a slower large database would point at a lookup that is not an `_id` match.' },
  { goal: 'Board page of its first post at 1 M posts ≤ 2 × its time at 10 k', parleyKey: 'parley.growth.boardFirst.ratio', bound: () => 2, direction: 'at most', unit: '×', limitedBy: 'Paging to the first post jumps straight to its bucket by number: the same reads as the newest page.' },
  { goal: 'Messages page at 1 M messages ≤ 2 × its time at 10 k', parleyKey: 'parley.growth.messages.ratio', bound: () => 2, direction: 'at most', unit: '×', limitedBy: 'The messages page is one read by `_id` of a bounded inbox document; a slower large database would point at a lookup that is not an `_id` match.' },
  { goal: 'Post page ≥ 25 % of Express hello-world requests/s', parleyKey: 'pages.parley.post.rps', yardstickKey: 'pages.hello.rps', bound: (y) => 0.25 * (y ?? NaN), direction: 'at least', unit: 'req/s', limitedBy: 'The page itself: even for an anonymous reader (no database read) helmet, the session, CSRF and i18n middleware and EJS rendering twenty replies cost about 0.45 ms of CPU, so the anonymous page reaches only ≈ 13 % of hello-world; a member’s page adds the session read from the engine (the member and the unread badge come from memory).' },
  { goal: 'Resident memory per idle socket ≤ 1.5 × the relay’s', parleyKey: 'parley.memoryPerSocket', yardstickKey: 'relay.memoryPerSocket', bound: (y) => 1.5 * (y ?? NaN), direction: 'at most', unit: 'KiB', limitedBy: 'Close to the bound either way: medians of the same build measured 1.45–1.55 × the relay across runs. A signed-in socket adds its member’s data, more event handlers and a presence entry, and its handshake reads the session and the member, whose garbage grows the heap the reading sees.' },
];

export interface TargetRow {
  goal: string;
  yardstick: string;
  bound: string;
  parley: string;
  status: 'met' | 'not met' | 'not measured yet';
  /** Empty unless the target is not met. */
  limitedBy: string;
}

export function evaluateTargets(figures: Figure[]): TargetRow[] {
  const find = (key: string | undefined) => (key ? figures.find((f) => f.key === key) : undefined);
  return TARGETS.map((target) => {
    const yardstick = find(target.yardstickKey);
    const parley = find(target.parleyKey);
    const bound = target.bound(yardstick?.value);
    const shown = (f: Figure | undefined) => (f ? `${formatNumber(f.value)} ${f.unit}` : '—');
    let status: TargetRow['status'] = 'not measured yet';
    if (parley && Number.isFinite(bound)) {
      const met = target.direction === 'at least' ? parley.value >= bound : parley.value <= bound;
      status = met ? 'met' : 'not met';
    }
    return {
      goal: target.goal,
      yardstick: target.yardstickKey ? `${shown(yardstick)} (${target.yardstickKey})` : '—',
      bound: Number.isFinite(bound) ? `${target.direction} ${formatNumber(bound)} ${target.unit}` : '—',
      parley: shown(parley),
      status,
      limitedBy: status === 'not met' ? target.limitedBy : '',
    };
  });
}
