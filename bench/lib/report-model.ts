// What a scenario hands back: figures (for the chart, the targets and tests), tables
// (for the reader) and integrity checks (was every message acknowledged and delivered once).
import type { Integrity } from './message-load.ts';

export type ChartPanel = 'messages' | 'latency' | 'requests' | 'memory';

export interface Figure {
  /** Stable name, e.g. "relay.capacity": tests and the targets table look figures up by it. */
  key: string;
  label: string;
  value: number;
  unit: string;
  chart?: ChartPanel;
}

export interface Table {
  caption?: string;
  /** Text tables read better left-aligned; figures right-aligned (the default). */
  textColumns?: boolean;
  head: string[];
  rows: string[][];
}

export interface IntegrityCheck {
  label: string;
  integrity: Integrity;
}

export interface ScenarioReport {
  id: string;
  title: string;
  /** One paragraph: what was measured, and how. */
  method: string;
  figures: Figure[];
  tables: Table[];
  integrity: IntegrityCheck[];
  notes: string[];
}

export function figure(report: Pick<ScenarioReport, 'figures'>, key: string): Figure | undefined {
  return report.figures.find((f) => f.key === key);
}

/** Numbers as a reader wants them: no false precision, thousands separated. */
export function formatNumber(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const places = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  return value.toLocaleString('en-US', { minimumFractionDigits: places, maximumFractionDigits: places });
}

/** A duration in seconds as people write it: "8 s", "0.8 s". */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

export function formatPercent(value: number): string {
  return Number.isFinite(value) ? `${Math.round(value)} %` : 'n/a';
}
