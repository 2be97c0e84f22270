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
}

export const TARGETS: Target[] = [
  { goal: 'Capacity with storage ≥ 50 % of the bare relay’s', parleyKey: 'parley.capacity', yardstickKey: 'relay.capacity', bound: (y) => 0.5 * (y ?? NaN), direction: 'at least', unit: 'msg/s' },
  { goal: 'Acknowledgement p99 ≤ 25 ms at 300 msg/s offered', parleyKey: 'parley.latency.ack.p99', yardstickKey: 'relay.latency.ack.p99', bound: () => 25, direction: 'at most', unit: 'ms' },
  { goal: 'Delivery p99 ≤ 25 ms at 300 msg/s offered', parleyKey: 'parley.latency.delivery.p99', yardstickKey: 'relay.latency.delivery.p99', bound: () => 25, direction: 'at most', unit: 'ms' },
  { goal: 'History page at 1 M messages ≤ 2 × its time at 10 k', parleyKey: 'parley.growth.history.ratio', bound: () => 2, direction: 'at most', unit: '×' },
  { goal: 'Messages page at 1 M messages ≤ 2 × its time at 10 k', parleyKey: 'parley.growth.messages.ratio', bound: () => 2, direction: 'at most', unit: '×' },
  { goal: 'Post page ≥ 25 % of Express hello-world requests/s', parleyKey: 'pages.parley.post.rps', yardstickKey: 'pages.hello.rps', bound: (y) => 0.25 * (y ?? NaN), direction: 'at least', unit: 'req/s' },
  { goal: 'Resident memory per idle socket ≤ 1.5 × the relay’s', parleyKey: 'parley.memoryPerSocket', yardstickKey: 'relay.memoryPerSocket', bound: (y) => 1.5 * (y ?? NaN), direction: 'at most', unit: 'KiB' },
];

export interface TargetRow {
  goal: string;
  yardstick: string;
  bound: string;
  parley: string;
  status: 'met' | 'not met' | 'not measured yet';
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
    };
  });
}
