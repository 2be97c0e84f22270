// One database server for the whole run: MONGODB_URI when given, else the embedded
// engine started in a temporary directory (never the development DATA_DIR).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../../src/db/embedded.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
    dbEngine: string;
  }
}

let embedded: EmbeddedDatabase | undefined;
let tempDir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  let uri = process.env.MONGODB_URI;
  let engine = 'external';
  if (!uri) {
    tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-test-'));
    const log = { info: console.log, warn: console.warn, error: console.error } as never;
    const choice = (process.env.DB_ENGINE as 'auto' | 'mongodb' | 'ferretdb' | undefined) ?? 'auto';
    embedded = await startEmbeddedDatabase({ engine: choice, dataDir: tempDir, log });
    uri = embedded.uri;
    engine = embedded.engine;
    console.log(`[tests] database: embedded ${engine} at ${uri} (data in ${tempDir})`);
  }
  project.provide('mongoUri', uri);
  project.provide('dbEngine', engine);
}

export async function teardown(): Promise<void> {
  await embedded?.stop();
  if (tempDir) await fs.rm(tempDir, { recursive: true, force: true });
}
