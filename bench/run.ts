// `npm run bench`: runs every scenario, one after another in one run, and writes
// docs/PERFORMANCE.md and its chart docs/performance.svg. Every scenario is bounded in
// time and count, and the whole run has a deadline after which it stops its servers
// and exits, so it never needs someone to stop it.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderChart } from './lib/chart.ts';
import { describeMachine } from './lib/machine.ts';
import { benchOptions, type BenchOptions, type ScenarioId } from './lib/options.ts';
import { otherProcessesCpu, sampleCpuAccount, stopAllChildren, waitForQuietMachine } from './lib/processes.ts';
import { renderMarkdown, type PendingMeasurement, type ScenarioConditions } from './lib/report.ts';
import type { ScenarioReport } from './lib/report-model.ts';
import { databaseScenario } from './scenarios/database.ts';
import { groupsScenario } from './scenarios/groups.ts';
import { growthScenario } from './scenarios/growth.ts';
import { memoryScenario } from './scenarios/memory.ts';
import { messagingScenario } from './scenarios/messaging.ts';
import { pagesScenario } from './scenarios/pages.ts';
import { relayScenario } from './scenarios/relay.ts';
import { searchScenario } from './scenarios/search.ts';

type Scenario = (options: BenchOptions, progress: (line: string) => void) => Promise<ScenarioReport>;

const SCENARIOS: Record<ScenarioId, Scenario> = {
  relay: relayScenario,
  messaging: messagingScenario,
  memory: memoryScenario,
  database: (options, progress) => databaseScenario(options, progress),
  pages: (options, progress) => pagesScenario(options, progress),
  growth: growthScenario,
  search: searchScenario,
  groups: groupsScenario,
};

/** Measurements the issue asks for that no scenario makes yet (none now). */
export const PENDING: PendingMeasurement[] = [];

export interface BenchResult {
  reports: ScenarioReport[];
  failures: { id: string; message: string }[];
  markdownPath: string;
  chartPath: string;
  elapsedMs: number;
}

export async function runBench(options: BenchOptions = benchOptions(), log: (line: string) => void = console.log): Promise<BenchResult> {
  const startedAt = new Date();
  const started = performance.now();
  const reports: ScenarioReport[] = [];
  const failures: BenchResult['failures'] = [];
  const conditions: ScenarioConditions[] = [];
  const deadlineError = new Error(`the run passed its deadline of ${options.deadlineMs / 1000} s; later scenarios were skipped`);
  let deadlineTimer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    deadlineTimer = setTimeout(() => reject(deadlineError), options.deadlineMs);
  });

  try {
    for (const id of options.only) {
      if (options.quietWaitMs > 0) {
        // Other people's work on a shared machine drags every figure down: give it a moment to pass.
        const busy = await waitForQuietMachine(options.quietWaitMs);
        if (busy >= 30) log(`[bench] the machine is still busy (${Math.round(busy)} % of a core used by others); measuring anyway`);
      }
      log(`[bench] ${id}…`);
      const before = sampleCpuAccount();
      try {
        reports.push(await Promise.race([SCENARIOS[id](options, (line) => log(`[bench]   ${line}`)), deadline]));
        const after = sampleCpuAccount();
        const condition = { id, seconds: (performance.now() - before!.at) / 1000, otherCpuPercent: otherProcessesCpu(before, after) };
        conditions.push(condition);
        log(`[bench] ${id} done in ${condition.seconds.toFixed(1)} s; other processes meanwhile: ${Math.round(condition.otherCpuPercent)} % of a core`);
      } catch (err) {
        // One scenario failing still leaves the others' figures worth having.
        const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
        log(`[bench] ${id} FAILED: ${message}`);
        failures.push({ id, message });
        await stopAllChildren();
        if (err === deadlineError) break;
      }
    }
  } finally {
    clearTimeout(deadlineTimer);
    await stopAllChildren();
  }

  const elapsedMs = performance.now() - started;
  const chartFile = 'performance.svg';
  const subtitle = `${startedAt.toISOString().slice(0, 10)}${options.quick ? ' (quick mode)' : ''}`;
  await fs.mkdir(options.outDir, { recursive: true });
  const markdownPath = path.join(options.outDir, 'PERFORMANCE.md');
  const chartPath = path.join(options.outDir, chartFile);
  await fs.writeFile(chartPath, renderChart(reports.flatMap((r) => r.figures), subtitle));
  const machine = describeMachine();
  const markdown = renderMarkdown({ startedAt, elapsedMs, quick: options.quick, machine, conditions, reports, failures, pending: PENDING, chartFile });
  await fs.writeFile(markdownPath, markdown);
  log(`[bench] wrote ${markdownPath} and ${chartPath} in ${(elapsedMs / 1000).toFixed(1)} s`);
  return { reports, failures, markdownPath, chartPath, elapsedMs };
}

async function main(): Promise<void> {
  let code = 1;
  try {
    const result = await runBench();
    code = result.failures.length ? 1 : 0;
  } catch (err) {
    console.error(`[bench] ${err instanceof Error ? err.message : String(err)}`);
  }
  // Stray handles (a client socket, a timer) must not keep a finished run alive.
  setTimeout(() => process.exit(code), 1000).unref();
  process.exitCode = code;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
