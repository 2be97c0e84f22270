// Issue 7's targets, checked against whatever the run measured. A target whose Parley
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

export const TARGETS: Target[] = [
  { goal: 'Capacity with storage ≥ 50 % of the bare relay’s', parleyKey: 'parley.capacity', yardstickKey: 'relay.capacity', bound: (y) => 0.5 * (y ?? NaN), direction: 'at least', unit: 'msg/s', limitedBy: 'The embedded engine. A message is stored before it is acknowledged: five writes and one read by `_id`, which FerretDB runs through one SQLite writer (each write costs it ≈ 0.5 ms of CPU; see the database ceiling, where Parley’s writes alone reach about the same rate with no sockets at all). The relay stores nothing. On MongoDB (production) the writes run concurrently.' },
  { goal: 'Acknowledgement p99 ≤ 25 ms at 300 msg/s offered', parleyKey: 'parley.latency.ack.p99', yardstickKey: 'relay.latency.ack.p99', bound: () => 25, direction: 'at most', unit: 'ms', limitedBy: 'The same single writer: 300 msg/s is about two thirds of Parley’s capacity on this engine, and the slowest sends wait for the writes queued ahead of them. Up to 200 msg/s the p99 stays within 25 ms (see the latency-by-rate table).' },
  { goal: 'Delivery p99 ≤ 25 ms at 300 msg/s offered', parleyKey: 'parley.latency.delivery.p99', yardstickKey: 'relay.latency.delivery.p99', bound: () => 25, direction: 'at most', unit: 'ms', limitedBy: 'Delivery follows storage (a message is delivered once stored), so it is held back exactly as the acknowledgement is.' },
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
