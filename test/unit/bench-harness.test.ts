// The benchmark harness, run in its quick mode on the bare relay: it must produce
// figures, and its bookkeeping must show every message acknowledged and delivered once.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderChart } from '../../bench/lib/chart.ts';
import { benchOptions } from '../../bench/lib/options.ts';
import { figure } from '../../bench/lib/report-model.ts';
import { percentile, summarize } from '../../bench/lib/stats.ts';
import { evaluateTargets } from '../../bench/lib/targets.ts';
import { runBench } from '../../bench/run.ts';

const outDirs: string[] = [];
afterAll(async () => {
  await Promise.all(outDirs.map((dir) => fs.rm(dir, { recursive: true, force: true })));
});

/** A quick-mode run of some scenarios, written to a temporary directory. */
async function quickBench(only: string) {
  const outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-bench-test-'));
  outDirs.push(outDir);
  return runBench(benchOptions({ BENCH_QUICK: '1', BENCH_ONLY: only, BENCH_OUT: outDir }), () => undefined);
}

describe('npm run bench, quick mode, relay only', () => {
  it('measures capacity and latency, follows every message once, and writes the report with its chart', { timeout: 90_000 }, async () => {
    const result = await quickBench('relay');

    expect(result.failures).toEqual([]);
    const relay = result.reports.find((r) => r.id === 'relay');
    expect(relay).toBeDefined();
    const value = (key: string) => {
      const found = figure(relay!, key);
      expect(found, key).toBeDefined();
      return found!.value;
    };
    expect(value('relay.capacity')).toBeGreaterThan(0);
    expect(value('relay.latency.ack.p50')).toBeLessThanOrEqual(value('relay.latency.ack.p99'));
    expect(value('relay.latency.delivery.p50')).toBeLessThanOrEqual(value('relay.latency.delivery.p99'));

    expect(relay!.integrity.length).toBeGreaterThanOrEqual(2);
    for (const { label, integrity } of relay!.integrity) {
      expect(integrity.sent, label).toBeGreaterThan(0);
      expect(integrity.ackedOnce, label).toBe(integrity.sent);
      expect(integrity.deliveredOnce, label).toBe(integrity.sent);
      expect(integrity.deliveredMoreThanOnce + integrity.misdelivered, label).toBe(0);
      expect(integrity.ok, label).toBe(true);
    }

    const markdown = await fs.readFile(result.markdownPath, 'utf8');
    expect(markdown).toContain('# Performance');
    expect(markdown).toContain('quick mode');
    expect(markdown).toContain('## Relay');
    expect(markdown).toMatch(/Capacity with storage .*not measured yet/);
    expect(markdown).toContain('](performance.svg)');
    const svg = await fs.readFile(result.chartPath, 'utf8');
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('Relay capacity');
  });
});

describe('npm run bench, quick mode, Parley', () => {
  it('drives Parley through sessions and storage, finds every acknowledged message stored and paged once, and grows the database', { timeout: 180_000 }, async () => {
    const result = await quickBench('messaging,growth');

    expect(result.failures).toEqual([]);
    const messaging = result.reports.find((r) => r.id === 'messaging')!;
    expect(figure(messaging, 'parley.capacity')?.value).toBeGreaterThan(0);
    const stored = figure(messaging, 'parley.storage.storedOnce')!.value;
    const acknowledged = messaging.integrity.reduce((sum, { integrity }) => sum + integrity.ackedOnce, 0);
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBe(acknowledged);
    expect(messaging.notes.join(' ')).not.toMatch(/Not every acknowledged message/);

    const growth = result.reports.find((r) => r.id === 'growth')!;
    for (const key of ['parley.growth.history.ratio', 'parley.growth.messages.ratio']) {
      expect(figure(growth, key)?.value, key).toBeGreaterThan(0);
    }
    const markdown = await fs.readFile(result.markdownPath, 'utf8');
    expect(markdown).toMatch(/History page at 1 M messages .*\| (met|not met) \|/);
  });
});

describe('bench figures', () => {
  it('takes nearest-rank percentiles: every reported latency is one that happened', () => {
    const samples = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(Float64Array.from(samples).sort(), 50)).toBe(5);
    expect(percentile(Float64Array.from(samples).sort(), 99)).toBe(10);
    const summary = summarize(samples);
    expect(summary).toMatchObject({ count: 10, p50: 5, p90: 9, p99: 10, max: 10, mean: 5.5 });
    expect(summarize([]).count).toBe(0);
  });

  it('judges targets against the relay’s figures and says which are not measured yet', () => {
    const rows = evaluateTargets([
      { key: 'relay.capacity.pairs8', label: 'relay', value: 30000, unit: 'msg/s' },
      { key: 'parley.capacity.pairs8', label: 'parley', value: 400, unit: 'msg/s' },
      { key: 'parley.capacity.pairs32', label: 'parley', value: 5000, unit: 'msg/s' },
      { key: 'relay.memoryPerSocket', label: 'relay', value: 20, unit: 'KiB' },
      { key: 'parley.memoryPerSocket', label: 'parley', value: 29, unit: 'KiB' },
    ]);
    const byGoal = (start: string) => rows.find((r) => r.goal.startsWith(start))!;
    expect(byGoal('Capacity with storage ≥ 4,000 msg/s at 8 pairs').status).toBe('not met');
    expect(byGoal('Capacity with storage ≥ 4,000 msg/s at 8 pairs').bound).toBe('at least 4,000 msg/s');
    expect(byGoal('Capacity with storage ≥ 4,000 msg/s at 8 pairs').yardstick).toBe('30,000 msg/s (relay.capacity.pairs8)');
    expect(byGoal('Capacity with storage ≥ 4,000 msg/s at 32 pairs').status).toBe('met');
    expect(byGoal('Capacity with storage ≥ 4,000 msg/s at 128 pairs').status).toBe('not measured yet');
    expect(byGoal('Resident memory').status).toBe('met');
    expect(byGoal('Post page').status).toBe('not measured yet');
  });

  it('draws labels in the chart as text, never as markup', () => {
    const svg = renderChart([{ key: 'x', label: '<script>alert(1)</script> & `code`', value: 3, unit: 'ms', chart: 'latency' }], 'test');
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; code');
  });
});
