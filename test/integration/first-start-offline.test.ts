// The very first start on a machine without internet: the mongod download fails, and
// that is said in one line, not as mongodb-memory-server's stack trace.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-offline-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const SCRIPT = `
import { startEmbeddedDatabase } from './src/db/embedded.ts';
const log = { info: (m) => console.log('info:', m), warn: (m) => console.log('warn:', m), error: (m) => console.log('error:', m) };
try {
  await startEmbeddedDatabase({ engine: 'mongodb', dataDir: process.env.TEST_DATA_DIR, cacheDir: process.env.TEST_CACHE_DIR, log });
  console.log('unexpectedly started');
} catch (err) {
  console.log('refused:', err.message);
}
`;

it('says in one line that mongod could not be downloaded, with no stack trace', async () => {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    // No cached mongod, and a download that cannot succeed, whatever the network.
    MONGOMS_DOWNLOAD_DIR: path.join(dir, 'binaries'),
    MONGOMS_DOWNLOAD_MIRROR: 'https://127.0.0.1:9',
    TEST_DATA_DIR: path.join(dir, 'data'),
    TEST_CACHE_DIR: path.join(dir, 'cache'),
  };
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise((resolve) => child.once('exit', resolve));

  expect(output).toContain('refused: No database engine could be started.');
  expect(output).toMatch(/ {2}- mongod: Download failed for url "https:\/\/127\.0\.0\.1:9\/[^"]+\.tgz", Details: .*ECONNREFUSED/);
  expect(output).not.toContain('MongoMemoryServer Instance failed');
  expect(output).not.toMatch(/^\s+at /m);
}, 60_000);
