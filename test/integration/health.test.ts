import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
