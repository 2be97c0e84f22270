import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { startCuttableProxy, type CuttableProxy } from '../support/cuttable-proxy.ts';
import { testDatabaseUri } from '../support/database.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe('GET /healthz', () => {
  it('answers 200 while the database is connected', async () => {
    const res = await request(server.url).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', database: 'connected' });
  });

  it('answers 503 once the database connection is gone', async () => {
    await server.db.connection.close();
    const res = await request(server.url).get('/healthz');
    expect(res.status).toBe(503);
    expect(res.body.database).toBe('disconnected');
    const page = await request(server.url).get('/');
    expect(page.status).toBe(503);
  });
});

describe('GET /healthz when the database stops answering', () => {
  let proxy: CuttableProxy;
  let behindProxy: TestServer;
  beforeAll(async () => {
    const direct = new URL(inject('mongoUri'));
    proxy = await startCuttableProxy(Number(direct.port));
    const throughProxy = new URL(testDatabaseUri('health'));
    throughProxy.port = new URL(proxy.url).port;
    // Ping on every call: what is checked is the round trip, not the cache.
    behindProxy = await startTestServer({ MONGODB_URI: throughProxy.toString(), HEALTH_CACHE_MS: '0' });
  });
  afterAll(async () => {
    proxy.unblock();
    await behindProxy?.close();
    await proxy?.close();
  });

  it('answers 503 at once, from a real round trip, before the driver has noticed', async () => {
    expect((await request(behindProxy.url).get('/healthz')).status).toBe(200);
    proxy.block();
    const res = await request(behindProxy.url).get('/healthz');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 'unavailable', database: 'disconnected' });
    proxy.unblock();
    await vi.waitFor(async () => expect((await request(behindProxy.url).get('/healthz')).status).toBe(200), { timeout: 20_000, interval: 100 });
  });
});
