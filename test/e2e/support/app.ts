// The app under test, started the way a user starts it: `npm start` in the project folder,
// configured only through the environment, with a data directory of its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../../src/db/embedded.ts';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** `npm start` runs this command line; its process is the server, the one to signal. */
const startScript = (JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;

export const E2E_SESSION_SECRET = 'e2e-session-secret-e2e-session-secret';

/** The machine-level settings a user's shell would pass on; everything the app reads is set below. */
const INHERITED_ENV = /^(PATH|HOME|USER|LANG|LC_\w+|TZ|TMPDIR|XDG_CACHE_HOME|FERRETDB_BIN|DB_ENGINE|MONGOMS_\w+|GO\w*)$/;

export interface AppOptions {
  /** Extra settings for this app (README "Settings"), e.g. `{ MESSAGE_RATE: '3/1m' }`. */
  env?: Record<string, string>;
  /** How long the first start may take; a cold machine builds the embedded database first. */
  startTimeoutMs?: number;
}

export interface App {
  /** `http://127.0.0.1:<port>`, the same across restarts. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Starts `npm start` and resolves once `/healthz` answers 200. */
  start(): Promise<void>;
  /** SIGTERM to the server process; resolves once it and everything it started have exited. */
  stop(): Promise<void>;
  /** stop() then start(): same port, same data directory. */
  restart(): Promise<void>;
  /** stop() and delete the data directory. */
  close(): Promise<void>;
  /**
   * Error and fatal lines the server has logged since the last call. The test fixtures fail a
   * test that leaves any: a page can look fine while the server behind it logged a 500.
   */
  takeServerErrors(): string[];
  /** The last lines the process printed, for failure messages. */
  outputTail(): string;
}

export async function startApp(options: AppOptions = {}): Promise<App> {
  const port = await freePort();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-e2e-'));
  const app = new AppProcess(port, dataDir, options);
  try {
    await app.start();
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  return app;
}

class AppProcess implements App {
  readonly url: string;
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private stopping = false;
  private lines: string[] = [];
  private serverErrors: string[] = [];
  private crash: string | undefined;
  private crashReported = false;
  private readonly killOnExit = () => this.killEverything();

  constructor(
    readonly port: number,
    readonly dataDir: string,
    private readonly options: AppOptions,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  private env(): NodeJS.ProcessEnv {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => INHERITED_ENV.test(key)));
    return {
      ...inherited,
      PORT: String(this.port),
      HOST: '127.0.0.1',
      DATA_DIR: this.dataDir,
      SESSION_SECRET: E2E_SESSION_SECRET,
      LOG_LEVEL: 'warn',
      // Every browser in these tests comes from 127.0.0.1, so the per-address limits
      // (5 registrations an hour) would stop a file after its fifth user.
      REGISTER_RATE: '1000/1h',
      LOGIN_RATE_PER_IP: '1000/15m',
      // First messages count in the badge as before requests: the requests tests turn them on.
      MESSAGE_REQUESTS: 'off',
      ...this.options.env,
    };
  }

  async start(): Promise<void> {
    if (this.child) throw new Error('the app is already running');
    this.stopping = false;
    this.crash = undefined;
    this.crashReported = false;
    const child = spawn('npm', ['start'], { cwd: projectRoot, env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let killedBy: NodeJS.Signals | null = null;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        killedBy = signal;
        resolve(code);
      }),
    );
    void this.exited.then((code) => {
      if (!this.stopping) this.crash = `the app exited by itself with ${killedBy ? `signal ${killedBy}` : `code ${code}`}`;
    });
    process.once('exit', this.killOnExit);
    this.capture(child.stdout, true);
    this.capture(child.stderr, false);

    const deadline = Date.now() + (this.options.startTimeoutMs ?? 110_000);
    while (!(await this.healthy())) {
      if (this.crash) throw new Error(`${this.crash} before it was healthy:\n${this.outputTail()}`);
      if (Date.now() > deadline) {
        await this.stop().catch(() => undefined);
        throw new Error(`the app did not answer /healthz with 200 in time:\n${this.outputTail()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private async healthy(): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(2000) });
      return res.status === 200;
    } catch {
      return false; // not listening yet
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.exited) return;
    this.stopping = true;
    try {
      if (this.crash) throw new Error(`${this.crash}:\n${this.outputTail()}`);
      const tree = descendants(child.pid!);
      // SIGTERM to npm reaches only the shell running the script, which dies and leaves the
      // server running: signal the server itself, as a process manager would, and let it
      // shut down its database.
      const server = tree.find((pid) => commandLine(pid) === startScript);
      if (server === undefined) throw new Error(`could not find the server process under npm (pid ${child.pid})`);
      process.kill(server, 'SIGTERM');
      const code = await withTimeout(this.exited, 30_000, 'the app did not exit within 30 s of SIGTERM');
      await waitUntilGone(tree, 10_000);
      if (code !== 0) throw new Error(`the app exited with code ${code} after SIGTERM:\n${this.outputTail()}`);
    } catch (err) {
      this.killEverything();
      throw err;
    } finally {
      process.removeListener('exit', this.killOnExit);
      this.child = undefined;
      this.exited = undefined;
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async close(): Promise<void> {
    try {
      await this.stop();
    } finally {
      await fs.rm(this.dataDir, { recursive: true, force: true });
    }
  }

  takeServerErrors(): string[] {
    const errors = this.serverErrors;
    this.serverErrors = [];
    if (this.crash && !this.crashReported) {
      this.crashReported = true;
      errors.push(`${this.crash}:\n${this.outputTail()}`);
    }
    return errors;
  }

  outputTail(): string {
    return this.lines.slice(-60).join('\n');
  }

  private capture(stream: NodeJS.ReadableStream | null, isLog: boolean): void {
    if (!stream) return;
    stream.setEncoding('utf8');
    let partial = '';
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        if (!line.trim()) continue;
        this.lines.push(line);
        if (this.lines.length > 500) this.lines.shift();
        if (isLog && logLevel(line) >= 50) this.serverErrors.push(line);
      }
    });
  }

  /** Last resort when a clean stop failed or the test process is exiting. */
  private killEverything(): void {
    const pid = this.child?.pid;
    if (!pid) return;
    for (const p of descendants(pid).concat(pid)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** pino writes one JSON object a line; anything else (npm's banner) is not a log line. */
function logLevel(line: string): number {
  if (!line.startsWith('{')) return 0;
  try {
    const level = (JSON.parse(line) as { level?: unknown }).level;
    return typeof level === 'number' ? level : 0;
  } catch {
    return 0;
  }
}

// --- processes, through /proc (Linux, as on every machine these tests run on) ---------

interface ProcStat {
  ppid: number;
  state: string;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may contain spaces and parentheses.
    const [state = '', ppid = ''] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(ppid), state };
  } catch {
    return undefined;
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = procStat(Number(name));
    if (stat) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), Number(name)]);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** A zombie has exited; only its parent's bookkeeping is left. */
function isAlive(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

async function waitUntilGone(pids: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive)) {
    if (Date.now() > deadline) {
      const left = pids.filter(isAlive).map((pid) => `${pid} ${commandLine(pid)}`);
      throw new Error(`processes the app started were still running after it exited:\n${left.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
