// The embedded database for development and tests, used when MONGODB_URI is unset.
//
// First choice is a real mongod through mongodb-memory-server. Where no mongod can be
// had (no cached binary, no MONGOMS_SYSTEM_BINARY, no download), FerretDB v1 with its
// SQLite backend stands in: it speaks the MongoDB wire protocol and needs no server.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import type { Logger } from 'pino';

export type EngineChoice = 'auto' | 'mongodb' | 'ferretdb';
export type EngineName = 'mongodb' | 'ferretdb';

export interface EmbeddedDatabase {
  engine: EngineName;
  uri: string;
  /** Where the engine keeps its files. */
  dataDir: string;
  /** The engine's process, when this process started one (for CPU and memory readings). */
  pid?: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  engine: EngineChoice;
  /** The app's DATA_DIR; the engine's files go under `mongo/` or `ferretdb/` inside it. */
  dataDir: string;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  /**
   * A fixed port instead of a fresh free one: lets a test stop the engine and start it
   * again where a running app's driver will find it.
   */
  port?: number;
  /** Overrides for tests: where binaries are cached and built. */
  cacheDir?: string;
  /** Overrides for tests: the environment used to look for binaries and Go. */
  env?: NodeJS.ProcessEnv;
}

export const FERRETDB_VERSION = 'v1.24.2';

/** The engine's address with a database name in its path (its options, if any, kept). */
export function withDatabaseName(uri: string, name: string): string {
  const url = new URL(uri);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Connections a client keeps to the embedded FerretDB (see startFerretDB). */
export const FERRETDB_POOL_SIZE = 8;

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ferretdbSource = path.join(projectRoot, 'tools', 'ferretdb');
const MONGOD_UNAVAILABLE_MARKER = 'mongod-unavailable';
/** How long a failed mongod download is remembered, so later starts skip straight to FerretDB. */
const MONGOD_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

export class NoEngineError extends Error {
  override name = 'NoEngineError';
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), '.cache');
  return path.join(base, 'parley');
}

export async function startEmbeddedDatabase(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const cacheDir = options.cacheDir ?? defaultCacheDir(options.env);
  const failures: string[] = [];

  if (options.engine !== 'ferretdb') {
    try {
      return await startMongod(options, cacheDir);
    } catch (err) {
      failures.push(`mongod: ${oneLine(err)}`);
      if (options.engine === 'mongodb') throw noEngine(failures);
      options.log.warn(`no mongod available (${oneLine(err)}); falling back to FerretDB`);
    }
  }
  try {
    return await startFerretDB(options, cacheDir);
  } catch (err) {
    failures.push(`FerretDB: ${oneLine(err)}`);
    throw noEngine(failures);
  }
}

function noEngine(failures: string[]): NoEngineError {
  return new NoEngineError(
    [
      'No database engine could be started.',
      ...failures.map((f) => `  - ${f}`),
      'Ways out:',
      '  - set MONGODB_URI to a running MongoDB (or MongoDB-compatible) server;',
      '  - allow mongodb-memory-server to download mongod (network access), or point MONGOMS_SYSTEM_BINARY at a mongod;',
      `  - install Go (https://go.dev/dl/) so that FerretDB ${FERRETDB_VERSION} can be built on first start.`,
    ].join('\n'),
  );
}

/** An error as one line of the log: a download error puts its cause on a line of its own. */
function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}

// --- mongod through mongodb-memory-server -------------------------------------------

async function startMongod(options: EmbeddedOptions, cacheDir: string): Promise<EmbeddedDatabase> {
  const env = options.env ?? process.env;
  const marker = path.join(cacheDir, MONGOD_UNAVAILABLE_MARKER);
  if (options.engine === 'auto' && !env.MONGOMS_SYSTEM_BINARY) {
    const stat = await fs.stat(marker).catch(() => undefined);
    if (stat && Date.now() - stat.mtimeMs < MONGOD_RETRY_AFTER_MS) {
      throw new Error(`download failed recently (remembered in ${marker})`);
    }
  }
  const dataDir = path.join(options.dataDir, 'mongo');
  await fs.mkdir(dataDir, { recursive: true });
  const { MongoBinary, MongoMemoryServer } = await import('mongodb-memory-server');
  let server;
  try {
    // Found or downloaded first, on its own: offline, that fails as one error of ours,
    // where MongoMemoryServer.create would print the download's whole stack trace itself.
    await MongoBinary.getPath();
    server = await MongoMemoryServer.create({
      instance: { dbPath: dataDir, storageEngine: 'wiredTiger', ip: '127.0.0.1', ...(options.port ? { port: options.port } : {}) },
    });
  } catch (err) {
    await fs.mkdir(cacheDir, { recursive: true });
    await fs.writeFile(marker, `${new Date().toISOString()} ${oneLine(err)}\n`);
    throw err;
  }
  await fs.rm(marker, { force: true });
  return {
    engine: 'mongodb',
    uri: server.getUri(),
    dataDir,
    stop: async () => {
      await server.stop({ doCleanup: false });
    },
  };
}

// --- FerretDB ---------------------------------------------------------------------

/** Finds a FerretDB binary, building it with Go on first use. */
export async function findOrBuildFerretDB(options: EmbeddedOptions, cacheDir: string): Promise<string> {
  const env = options.env ?? process.env;
  const built = path.join(cacheDir, 'bin', `parley-ferretdb-${await ferretdbSourceHash()}`);
  if (env.FERRETDB_BIN) {
    if (!existsSync(env.FERRETDB_BIN)) throw new Error(`FERRETDB_BIN=${env.FERRETDB_BIN} does not exist`);
    return env.FERRETDB_BIN;
  }
  if (existsSync(built)) return built;

  const go = await which('go', env);
  if (!go) {
    throw new Error(`no FerretDB binary in ${path.dirname(built)} and no Go toolchain on PATH to build one`);
  }
  options.log.info(`building FerretDB ${FERRETDB_VERSION} into ${built} (first start only; a few minutes)`);
  await fs.mkdir(path.dirname(built), { recursive: true });
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    // -v prints each package as it compiles: that is the progress a newcomer sees.
    const child = spawn(go, ['build', '-v', '-o', `${built}.tmp`, '.'], {
      cwd: ferretdbSource,
      env: { ...env, CGO_ENABLED: '0' },
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let count = 0;
    let tail = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      tail = (tail + chunk).slice(-4000);
      for (const line of chunk.split('\n')) {
        if (!line) continue;
        count += 1;
        if (line.startsWith('go: downloading') || count % 25 === 0) {
          process.stderr.write(`  [ferretdb build] ${line}\n`);
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`go build failed with exit code ${code}:\n${tail}`));
    });
  });
  await fs.rename(`${built}.tmp`, built);
  options.log.info(`built FerretDB in ${Math.round((Date.now() - started) / 1000)} s`);
  return built;
}

/**
 * A short hash of the wrapper's sources: the cached binary is named after it, so a
 * change to the wrapper (or a FerretDB version bump) builds a new binary instead of
 * silently reusing an old one.
 */
async function ferretdbSourceHash(): Promise<string> {
  const hash = crypto.createHash('sha256');
  const files = (await fs.readdir(ferretdbSource)).filter((f) => /\.go$|^go\.(mod|sum)$/.test(f)).sort();
  for (const file of files) {
    hash.update(file).update('\0').update(await fs.readFile(path.join(ferretdbSource, file)));
  }
  return hash.digest('hex').slice(0, 12);
}

async function which(command: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const dirs = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  // Go's installer puts it in /usr/local/go; GOROOT names another place.
  if (command === 'go') dirs.push(path.join(env.GOROOT || '/usr/local/go', 'bin'));
  for (const dir of dirs) {
    const candidate = path.join(dir, command);
    try {
      await fs.access(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not find a free port'));
      });
    });
  });
}

/** Ends a FerretDB left running by an app that was killed before it could stop it. */
async function killStaleProcess(pidFile: string): Promise<void> {
  const text = await fs.readFile(pidFile, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return;
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes('ferretdb')) return; // gone, or the pid now belongs to something else
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 50 && existsSync(`/proc/${pid}`); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  if (existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGKILL');
}

async function waitForPing(uri: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`FerretDB exited with code ${child.exitCode} before answering`);
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 500, connectTimeoutMS: 500 });
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.close().catch(() => undefined);
    }
  }
  throw new Error(`FerretDB did not answer a ping within ${timeoutMs} ms: ${oneLine(lastError)}`);
}

async function startFerretDB(options: EmbeddedOptions, cacheDir: string): Promise<EmbeddedDatabase> {
  const binary = await findOrBuildFerretDB(options, cacheDir);
  const dataDir = path.join(options.dataDir, 'ferretdb');
  await fs.mkdir(dataDir, { recursive: true });
  const pidFile = path.join(dataDir, 'ferretdb.pid');
  await killStaleProcess(pidFile);

  // A fresh free port every start unless told otherwise, so a port held by a killed run
  // never blocks us.
  const port = options.port ?? (await freePort());
  const child = spawn(
    binary,
    [
      `--listen-addr=127.0.0.1:${port}`,
      '--handler=sqlite',
      // synchronous=NORMAL in WAL mode: a commit no longer waits for an fsync (findAndModify
      // 3.1 → 1.2 ms median, p99 34 → 6 ms here). An app crash still loses nothing; only an
      // OS crash or power cut can drop the last commits — acceptable for the development
      // and test engine, while production runs MongoDB.
      `--sqlite-url=file:${dataDir}/?_pragma=synchronous(normal)`,
      '--telemetry=disable',
      '--debug-addr=-',
      `--state-dir=${dataDir}`,
      '--log-level=error',
    ],
    // stdin stays a pipe: our wrapper exits when it closes, i.e. when this process dies.
    // GOGC=400: the engine's heap is small and short-lived (documents decoded per
    // command), so Go's default collects very often; 400 cut its CPU per message write
    // set by ~15 % here (3.8 → 3.2 ms) for a few more MB of memory.
    { stdio: ['pipe', 'ignore', 'pipe'], env: { GOGC: '400', ...process.env } },
  );
  let stderrTail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // If the app dies without a chance to stop us, the child gets SIGTERM from this hook;
  // on SIGKILL the closed stdin pipe does the same job.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  await fs.writeFile(pidFile, String(child.pid));

  // At most FERRETDB_POOL_SIZE commands in flight per client. SQLite has one writer: a
  // write that finds it busy sleeps in SQLite's busy handler (1, 2, 5, 10… ms) instead of
  // queueing, which made the slowest sends wait hundreds of ms. Queued in the driver
  // instead, Parley's ack p99 at 300 messages/s fell from 286 ms to 33–47 ms and its
  // capacity rose from ~390 to ~410 messages/s (pools of 2–16 tried: 6–8 were best).
  const uri = `mongodb://127.0.0.1:${port}/?maxPoolSize=${FERRETDB_POOL_SIZE}`;
  try {
    await waitForPing(uri, child, 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    process.removeListener('exit', killOnExit);
    throw new Error(`${oneLine(err)}${stderrTail ? `\n${stderrTail}` : ''}`);
  }

  return {
    engine: 'ferretdb',
    uri,
    dataDir,
    pid: child.pid,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await fs.rm(pidFile, { force: true });
    },
  };
}
