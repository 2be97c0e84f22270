// Capacity and latency of any server that speaks Parley's socket events, measured the
// same way: the relay now; Parley, with its storage, once messaging lands (see run.ts).
import type { BenchOptions } from './options.ts';
import { ClientPool, type MessagingTarget } from './message-clients.ts';
import { closedLoop, openLoop, pairUp, type CapacityResult, type LatencyResult } from './message-load.ts';
import type { ProcessSample } from './processes.ts';
import { formatNumber, formatPercent, type Figure, type IntegrityCheck, type Table } from './report-model.ts';

export interface MessagingMeasurements {
  capacity: CapacityResult[];
  best: CapacityResult;
  latency: LatencyResult;
  /** The same open loop at lower offered rates: where the latency target holds, if not at the main rate. */
  lowerRates: LatencyResult[];
  /** Open loop at twice the best capacity measured: what a send sees past what the server can store. */
  overload?: LatencyResult;
  unexpectedDisconnects: number;
}

export async function measureMessaging(
  target: MessagingTarget,
  options: BenchOptions['relay'],
  sampleServer?: () => ProcessSample | undefined,
  progress: (line: string) => void = () => undefined,
  lowerRates: number[] = [],
  /** Also measure an open loop at this multiple of the best capacity (0: not). */
  overloadFactor = 0,
): Promise<MessagingMeasurements> {
  const pool = new ClientPool(target.url);
  try {
    const clientsNeeded = 2 * Math.max(options.latencyPairs, ...options.capacityPairs);
    const users = await target.createUsers(clientsNeeded, `${target.name}-user`);
    const clients = await pool.connect(users);
    const load = { contentLength: options.contentLength, sampleServer };

    const capacity: CapacityResult[] = [];
    for (const pairs of options.capacityPairs) {
      const result = await closedLoop(pool, pairUp(clients.slice(0, 2 * pairs)), {
        ...load,
        warmupMs: options.capacityWarmupMs,
        measureMs: options.capacityMs,
      });
      progress(`${target.name} capacity, ${pairs} pairs: ${formatNumber(result.messagesPerSecond)} msg/s`);
      capacity.push(result);
    }
    // Lower rates first: a server left behind by an overload would still be catching up.
    const lower: LatencyResult[] = [];
    for (const rate of lowerRates) {
      const result = await openLoop(pool, pairUp(clients.slice(0, 2 * options.latencyPairs)), {
        ...load,
        rate,
        warmupMs: options.latencyWarmupMs,
        measureMs: Math.round(options.latencyMs / 2),
      });
      progress(`${target.name} at ${rate} msg/s: ack p50 ${formatNumber(result.ack.p50)} ms, p99 ${formatNumber(result.ack.p99)} ms`);
      lower.push(result);
    }
    const latency = await openLoop(pool, pairUp(clients.slice(0, 2 * options.latencyPairs)), {
      ...load,
      rate: options.latencyRate,
      warmupMs: options.latencyWarmupMs,
      measureMs: options.latencyMs,
    });
    progress(
      `${target.name} at ${options.latencyRate} msg/s: ack p50 ${formatNumber(latency.ack.p50)} ms, p99 ${formatNumber(latency.ack.p99)} ms`,
    );
    const best = capacity.reduce((a, b) => (b.messagesPerSecond > a.messagesPerSecond ? b : a));
    let overload: LatencyResult | undefined;
    if (overloadFactor > 0) {
      const rate = Math.round(overloadFactor * best.messagesPerSecond);
      overload = await openLoop(pool, pairUp(clients.slice(0, 2 * options.latencyPairs)), {
        ...load,
        rate,
        warmupMs: options.latencyWarmupMs,
        measureMs: Math.round(options.latencyMs / 2),
      });
      progress(
        `${target.name} overloaded at ${rate} msg/s: ${overload.refused} refused busy (answer p99 ${formatNumber(overload.busyAnswer.p99)} ms), accepted ack p99 ${formatNumber(overload.acceptedAck.p99)} ms`,
      );
    }
    return { capacity, best, latency, lowerRates: lower, overload, unexpectedDisconnects: pool.unexpectedDisconnects };
  } finally {
    await pool.close();
  }
}

/** Figures, tables and checks for a report, keyed by the target's name ("relay", later "parley"). */
export function describeMessaging(name: string, title: string, m: MessagingMeasurements) {
  const { latency } = m;
  const figures: Figure[] = [
    { key: `${name}.capacity`, label: `${title} capacity (${m.best.pairs} pairs)`, value: m.best.messagesPerSecond, unit: 'msg/s', chart: 'messages' },
    { key: `${name}.latency.ack.p50`, label: `${title} ack p50 @ ${latency.offeredRate}/s`, value: latency.ack.p50, unit: 'ms', chart: 'latency' },
    { key: `${name}.latency.ack.p99`, label: `${title} ack p99 @ ${latency.offeredRate}/s`, value: latency.ack.p99, unit: 'ms', chart: 'latency' },
    { key: `${name}.latency.delivery.p50`, label: `${title} delivery p50 @ ${latency.offeredRate}/s`, value: latency.delivery.p50, unit: 'ms', chart: 'latency' },
    { key: `${name}.latency.delivery.p99`, label: `${title} delivery p99 @ ${latency.offeredRate}/s`, value: latency.delivery.p99, unit: 'ms', chart: 'latency' },
  ];
  for (const c of m.capacity) {
    figures.push({ key: `${name}.capacity.pairs${c.pairs}`, label: `${title} capacity (${c.pairs} pairs)`, value: c.messagesPerSecond, unit: 'msg/s' });
  }
  const capacityTable: Table = {
    caption: `${title} capacity, closed loop (each pair keeps one message in flight until it is acknowledged and delivered)`,
    head: ['pairs', 'msg/s', 'round trip p50 (ms)', 'round trip p99 (ms)', 'server CPU', 'client CPU', 'other processes'],
    rows: m.capacity.map((c) => [
      String(c.pairs),
      formatNumber(c.messagesPerSecond),
      formatNumber(c.roundTrip.p50),
      formatNumber(c.roundTrip.p99),
      formatPercent(c.serverCpuPercent),
      formatPercent(c.clientCpuPercent),
      formatPercent(c.otherCpuPercent),
    ]),
  };
  const latencyTable: Table = {
    caption: `${title} latency, open loop at ${latency.offeredRate} msg/s offered (${formatNumber(latency.achievedRate)} sent/s; ${latency.ack.count} messages measured); server CPU ${formatPercent(latency.serverCpuPercent)}, client CPU ${formatPercent(latency.clientCpuPercent)}, other processes ${formatPercent(latency.otherCpuPercent)}`,
    head: ['from scheduled send to', 'p50 (ms)', 'p90 (ms)', 'p99 (ms)', 'max (ms)'],
    rows: (
      [
        ['acknowledgement', latency.ack],
        ['sendback at the recipient', latency.delivery],
        ['(sender lag behind schedule)', latency.senderLag],
      ] as const
    ).map(([label, s]) => [label, formatNumber(s.p50), formatNumber(s.p90), formatNumber(s.p99), formatNumber(s.max)]),
  };
  const integrity: IntegrityCheck[] = [
    ...m.capacity.map((c) => ({ label: `${title} capacity, ${c.pairs} pairs`, integrity: c.integrity })),
    { label: `${title} latency at ${latency.offeredRate} msg/s`, integrity: latency.integrity },
    ...m.lowerRates.map((l) => ({ label: `${title} latency at ${l.offeredRate} msg/s`, integrity: l.integrity })),
  ];
  const tables = [capacityTable, latencyTable];
  const { overload } = m;
  if (overload) {
    integrity.push({ label: `${title} overloaded at ${formatNumber(overload.offeredRate, 0)} msg/s (busy sends retried)`, integrity: overload.integrity });
    figures.push(
      { key: `${name}.overload.acceptedAck.p99`, label: `${title} accepted ack p99 at 2× capacity`, value: overload.acceptedAck.p99, unit: 'ms' },
      { key: `${name}.overload.busyAnswer.max`, label: `${title} busy answer max at 2× capacity`, value: overload.refused > 0 ? overload.busyAnswer.max : 0, unit: 'ms' },
      { key: `${name}.overload.deliveredAll`, label: `${title} every message delivered at 2× capacity`, value: overload.integrity.ok ? 1 : 0, unit: '' },
    );
    tables.push({
      caption: `${title} past capacity: open loop at ${formatNumber(overload.offeredRate, 0)} msg/s offered (2 × the best capacity above; ${formatNumber(overload.achievedRate)} sent/s); a send refused as busy is sent again after the delay asked for, with the same client id, as the browser's outbox does; server CPU ${formatPercent(overload.serverCpuPercent)}, other processes ${formatPercent(overload.otherCpuPercent)}`,
      head: ['', 'messages', 'p50 (ms)', 'p90 (ms)', 'p99 (ms)', 'max (ms)'],
      rows: (
        [
          ['acknowledgement of sends accepted at once', overload.acceptedAck],
          ['busy answer (first refusal of the others)', overload.busyAnswer],
          ['acknowledgement, all (after retries)', overload.ack],
          ['sendback at the recipient, all', overload.delivery],
        ] as const
      ).map(([label, s]) => [label, String(s.count), formatNumber(s.p50), formatNumber(s.p90), formatNumber(s.p99), formatNumber(s.max)]),
    });
  }
  if (m.lowerRates.length) {
    const all = [...m.lowerRates, latency].sort((a, b) => a.offeredRate - b.offeredRate);
    tables.push({
      caption: `${title} latency by offered rate (open loop, from the scheduled send)`,
      head: ['offered (msg/s)', 'sent (msg/s)', 'ack p50 (ms)', 'ack p99 (ms)', 'delivery p50 (ms)', 'delivery p99 (ms)', 'server CPU', 'other processes'],
      rows: all.map((l) => [
        formatNumber(l.offeredRate, 0),
        formatNumber(l.achievedRate),
        formatNumber(l.ack.p50),
        formatNumber(l.ack.p99),
        formatNumber(l.delivery.p50),
        formatNumber(l.delivery.p99),
        formatPercent(l.serverCpuPercent),
        formatPercent(l.otherCpuPercent),
      ]),
    });
    for (const l of m.lowerRates) {
      figures.push({ key: `${name}.latency.at${l.offeredRate}.ack.p99`, label: `${title} ack p99 @ ${l.offeredRate}/s`, value: l.ack.p99, unit: 'ms' });
      figures.push({ key: `${name}.latency.at${l.offeredRate}.delivery.p99`, label: `${title} delivery p99 @ ${l.offeredRate}/s`, value: l.delivery.p99, unit: 'ms' });
    }
  }
  return { figures, tables, integrity };
}
