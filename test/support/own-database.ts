// A database engine of the test's own, which the test can stop and start again under a
// running app: same data directory, same port, so the app's driver finds it again.
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { freePort, startEmbeddedDatabase, withDatabaseName, type EmbeddedDatabase, type EngineChoice } from '../../src/db/embedded.ts';

export interface OwnDatabase {
  /** The connection string for MONGODB_URI; the same across restarts. */
  readonly uri: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /**
   * Freezes the engine (SIGSTOP) until `thaw()`: connections stay open and nothing answers,
   * as with a stalled or overloaded server. FerretDB only.
   */
  freeze(): void;
  thaw(): void;
  /** Kills the engine (SIGKILL) as a crash would, mid-write; `start()` brings it back on the same files. FerretDB only. */
  kill(): Promise<void>;
  /** Stops the engine and deletes its files. */
  remove(): Promise<void>;
}

const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

export async function startOwnDatabase(): Promise<OwnDatabase> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-own-db-'));
  const port = await freePort();
  // The engine the run's shared database uses; an external server cannot be restarted here.
  const shared = inject('dbEngine');
  const engine: EngineChoice = shared === 'mongodb' ? 'mongodb' : 'ferretdb';
  let running: EmbeddedDatabase | undefined;
  const start = async () => {
    running ??= await startEmbeddedDatabase({ engine, dataDir, log: quietLog as never, port });
  };
  const stop = async () => {
    const stopping = running;
    running = undefined;
    await stopping?.stop();
  };
  const signal = (name: NodeJS.Signals) => {
    if (running?.engine !== 'ferretdb') throw new Error('only a running FerretDB can be frozen');
    process.kill(Number(readFileSync(path.join(running.dataDir, 'ferretdb.pid'), 'utf8')), name);
  };
  await start();
  const uri = withDatabaseName(running!.uri, 'parley');
  return {
    uri,
    start,
    stop,
    freeze: () => {
      signal('SIGSTOP');
      // The signal lands when the kernel next stops the process: on a busy machine a
      // command or two can still be answered before. Wait until it says stopped.
      const stat = `/proc/${readFileSync(path.join(running!.dataDir, 'ferretdb.pid'), 'utf8').trim()}/stat`;
      const until = Date.now() + 2000;
      while (Date.now() < until && !/\) T /.test(readFileSync(stat, 'utf8'))) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    },
    thaw: () => signal('SIGCONT'),
    async kill() {
      const pid = Number(readFileSync(path.join(running!.dataDir, 'ferretdb.pid'), 'utf8'));
      signal('SIGKILL');
      while (existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z')) await new Promise((resolve) => setTimeout(resolve, 10));
      // What is left of the handle (its exit hook) goes with a stop that finds the engine gone.
      const killed = running;
      running = undefined;
      await killed?.stop().catch(() => undefined);
    },
    async remove() {
      if (running?.engine === 'ferretdb') signal('SIGCONT');
      await stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
