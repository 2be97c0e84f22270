// Once per `npm run test:e2e`: a clear message when Chromium is missing, a clean folder so
// that test-results/ holds only this run's screenshots, and the embedded database made
// ready. On a cold machine the first start builds FerretDB (minutes); done here, it is not
// charged to the first test of a file, whose app would otherwise time out waiting.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedDatabase, type EngineChoice } from '../../../src/db/embedded.ts';
import { FAILURES_DIR, SCREENSHOTS_DIR } from './browser.ts';

export async function setup(): Promise<void> {
  const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(chromium)) {
    throw new Error(`No Chromium at ${chromium}. Install it (apt-get install -y chromium) or set CHROMIUM_PATH.`);
  }
  await fs.rm(SCREENSHOTS_DIR, { recursive: true, force: true });
  await fs.rm(FAILURES_DIR, { recursive: true, force: true });

  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-e2e-warmup-'));
  try {
    const engine = (process.env.DB_ENGINE as EngineChoice | undefined) ?? 'auto';
    const log = { info: console.log, warn: () => undefined, error: console.error } as never;
    const database = await startEmbeddedDatabase({ engine, dataDir, log });
    await database.stop();
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}
