import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { NoEngineError, startEmbeddedDatabase } from '../../src/db/embedded.ts';

const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined } as never;
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-provider-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
});

describe('embedded database provider', () => {
  it.runIf(inject('dbEngine') === 'ferretdb')('starts FerretDB, and its data survives a restart', async () => {
    const dataDir = await tempDir();
    const first = await startEmbeddedDatabase({ engine: 'ferretdb', dataDir, log: quietLog });
    expect(first.engine).toBe('ferretdb');
    expect(first.dataDir).toBe(path.join(dataDir, 'ferretdb'));
    let client = await new MongoClient(first.uri).connect();
    await client.db('keep').collection('things').insertOne({ _id: 'a' as never, n: 1 });
    await client.close();
    await first.stop();

    const second = await startEmbeddedDatabase({ engine: 'ferretdb', dataDir, log: quietLog });
    client = await new MongoClient(second.uri).connect();
    const found = await client.db('keep').collection('things').findOne({ _id: 'a' as never });
    await client.close();
    await second.stop();
    expect(found).toMatchObject({ n: 1 });
  });

  it.runIf(inject('dbEngine') === 'ferretdb')('does not let a stale process from a killed run block the next start', async () => {
    const dataDir = await tempDir();
    const first = await startEmbeddedDatabase({ engine: 'ferretdb', dataDir, log: quietLog });
    const pid = Number(await fs.readFile(path.join(dataDir, 'ferretdb', 'ferretdb.pid'), 'utf8'));
    // Simulate an app killed before it could stop its database: the pid file stays behind.
    const second = await startEmbeddedDatabase({ engine: 'ferretdb', dataDir, log: quietLog });
    expect(second.uri).not.toBe(first.uri);
    await expect(fs.access(`/proc/${pid}`)).rejects.toThrow();
    const client = await new MongoClient(second.uri).connect();
    await expect(client.db('admin').command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
    await client.close();
    await second.stop();
  });

  it('explains the ways out when no engine can be had', async () => {
    const dataDir = await tempDir();
    const cacheDir = await tempDir();
    const attempt = startEmbeddedDatabase({
      engine: 'ferretdb',
      dataDir,
      cacheDir,
      log: quietLog,
      env: { PATH: '/nonexistent', HOME: cacheDir, GOROOT: '/nonexistent' },
    });
    await expect(attempt).rejects.toBeInstanceOf(NoEngineError);
    await expect(attempt).rejects.toThrow(/MONGODB_URI/);
    await expect(attempt).rejects.toThrow(/mongod/);
    await expect(attempt).rejects.toThrow(/install Go/);
  });
});
