// Server processes under test run as children, so their CPU time and memory are their
// own and not mixed with the load generator's. Figures come from /proc (Linux), which
// needs nothing from the measured process.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort } from '../../src/db/embedded.ts';
import { sleep, withTimeout } from './stats.ts';

export interface ProcessSample {
  /** performance.now() when taken. */
  at: number;
  rssBytes: number;
  /** User + system CPU time so far. */
  cpuSeconds: number;
}

// USER_HZ, the unit of /proc/<pid>/stat times, is 100 on every Linux architecture Node runs on.
const USER_HZ = 100;

/** Undefined where /proc is not available (not Linux) or the process is gone. */
export function sampleProcess(pid: number): ProcessSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuTicks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKiB = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
    if (!Number.isFinite(cpuTicks) || !Number.isFinite(rssKiB)) return undefined;
    return { at: performance.now(), rssBytes: rssKiB * 1024, cpuSeconds: cpuTicks / USER_HZ };
  } catch {
    return undefined;
  }
}

export interface CpuAccount {
  at: number;
  /** Busy time of every core of the machine together. */
  machineSeconds: number;
  /** This process and every child it has reaped (a child's own children included). */
  ownTreeSeconds: number;
}

/** Undefined where /proc is not available. */
export function sampleCpuAccount(): CpuAccount | undefined {
  try {
    const [user, nice, system, _idle, _iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    const own = fields[11]! + fields[12]! + fields[13]! + fields[14]!;
    const machine = user! + nice! + system! + irq! + softirq! + steal!;
    return { at: performance.now(), machineSeconds: machine / USER_HZ, ownTreeSeconds: own / USER_HZ };
  } catch {
    return undefined;
  }
}

/**
 * CPU that processes outside the bench used between two samples, in % of one core.
 * Exact only when every child started in between has been stopped and reaped.
 */
export function otherProcessesCpu(from: CpuAccount | undefined, to: CpuAccount | undefined): number {
  if (!from || !to || to.at <= from.at) return Number.NaN;
  const others = to.machineSeconds - from.machineSeconds - (to.ownTreeSeconds - from.ownTreeSeconds);
  return (Math.max(0, others) / ((to.at - from.at) / 1000)) * 100;
}

/**
 * Waits until other processes leave the machine mostly idle for a moment, or until
 * maxWaitMs has passed; resolves with the share of a core they last used.
 */
export async function waitForQuietMachine(maxWaitMs: number, quietPercent = 30, windowMs = 2000): Promise<number> {
  const giveUpAt = performance.now() + maxWaitMs;
  let busy = Number.NaN;
  while (performance.now() < giveUpAt) {
    const from = sampleCpuAccount();
    if (!from) return Number.NaN;
    await sleep(windowMs);
    busy = otherProcessesCpu(from, sampleCpuAccount());
    if (busy < quietPercent) return busy;
  }
  return busy;
}

export function sampleSelf(): ProcessSample {
  const cpu = process.cpuUsage();
  return { at: performance.now(), rssBytes: process.memoryUsage.rss(), cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/** Share of one core used between two samples: 100 means one core fully busy. */
export function cpuPercent(from: ProcessSample | undefined, to: ProcessSample | undefined): number {
  if (!from || !to || to.at <= from.at) return Number.NaN;
  return ((to.cpuSeconds - from.cpuSeconds) / ((to.at - from.at) / 1000)) * 100;
}

export interface ChildServer {
  name: string;
  /** http://127.0.0.1:<port> */
  url: string;
  pid: number;
  sample(): ProcessSample | undefined;
  /** Asks the child to collect garbage (children run with --expose-gc), so RSS reads settle. */
  collectGarbage(): Promise<void>;
  stop(): Promise<void>;
}

export interface ChildServerOptions {
  name: string;
  /** A module under bench/servers/ that listens on PORT and calls serveUnderBench(). */
  script: string;
  env?: Record<string, string>;
  /** A path answering below 500 once the server is ready. */
  readyPath: string;
  readyTimeoutMs?: number;
}

const running = new Set<ChildProcess>();

// Whatever way the run ends, no server outlives it. Children also exit on their own
// when the IPC channel closes, which covers a SIGKILLed parent.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function stopAllChildren(): Promise<void> {
  await Promise.all([...running].map((child) => stopChild(child)));
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    running.delete(child);
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
  running.delete(child);
}

export async function startChildServer(options: ChildServerOptions): Promise<ChildServer> {
  const port = await freePort();
  const child = fork(options.script, [], {
    execArgv: ['--import', 'tsx', '--expose-gc', ...(process.env.BENCH_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? [])],
    env: { ...process.env, ...options.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('exit', () => running.delete(child));

  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilAnswering(`${url}${options.readyPath}`, child, options.readyTimeoutMs ?? 60_000);
  } catch (err) {
    await stopChild(child);
    throw new Error(`${options.name} did not start: ${(err as Error).message}\n${output}`);
  }
  const pid = child.pid!;
  return {
    name: options.name,
    url,
    pid,
    sample: () => sampleProcess(pid),
    collectGarbage: () => requestGarbageCollection(child),
    stop: () => stopChild(child),
  };
}

async function waitUntilAnswering(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status < 500) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`${url} not answering within ${timeoutMs} ms (${last})`);
}

async function requestGarbageCollection(child: ChildProcess): Promise<void> {
  const done = new Promise<void>((resolve) => {
    const onMessage = (message: unknown) => {
      if ((message as { type?: string })?.type !== 'gc-done') return;
      child.off('message', onMessage);
      resolve();
    };
    child.on('message', onMessage);
  });
  child.send({ type: 'gc' });
  await withTimeout(done, 5000, 'garbage collection in the server child');
}
