// Starts the real server (HTTP + Socket.IO + database) on a free port for a test file.
import { afterAll, beforeAll } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { testDatabaseUri } from './database.ts';

export interface TestServer extends RunningServer {
  config: Config;
  dataDir: string;
}

export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-app-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    MONGODB_URI: env.MONGODB_URI ?? testDatabaseUri(),
    SESSION_SECRET: 'test-secret-test-secret-test-secret',
    // Tests create many users from one address; tests of the limits themselves lower these.
    REGISTER_RATE: '10000/1m',
    LOGIN_RATE_PER_IP: '10000/1m',
    POST_RATE: '10000/1m',
    MESSAGE_RATE: '10000/1m',
    // First messages count in the badge as before requests: the requests tests turn them on.
    MESSAGE_REQUESTS: 'off',
    ...env,
  });
  const running = await startServer(config, createLogger(config));
  return {
    ...running,
    config,
    dataDir,
    close: async () => {
      await running.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * One real server for the test file that calls this (at its top level): started before
 * its tests, closed after them. Read `.current` inside tests and hooks.
 */
export function useTestServer(env: Record<string, string> = {}): { current: TestServer } {
  const holder = {} as { current: TestServer };
  beforeAll(async () => {
    holder.current = await startTestServer(env);
  });
  afterAll(async () => {
    await holder.current?.close();
  });
  return holder;
}
