import net from 'node:net';
import { expect, it } from 'vitest';
import { startTestServer } from '../support/server.ts';

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

// Browsers open connections ahead of need (preconnect). Node does not count one that has
// sent nothing as idle; left alone it would hold shutdown until headersTimeout (20 s).
it('shuts down without waiting for a connection that never sent a request', { timeout: 15_000 }, async () => {
  const server = await startTestServer({ SHUTDOWN_TIMEOUT_MS: '60000' });
  const silent = await connect(server.port);
  const closedByServer = new Promise<void>((resolve) => silent.once('close', () => resolve()));
  await server.close();
  await closedByServer;
  expect(silent.destroyed).toBe(true);
});

// A connection busy when shutdown starts: without the sweep it stays open for the server's
// keepAliveTimeout (5 s) after its response, and shutdown waits for it; this test's time
// limit is below that.
it('answers a request already under way, then closes its keep-alive connection', { timeout: 4_000 }, async () => {
  const server = await startTestServer({ SHUTDOWN_TIMEOUT_MS: '60000' });
  const accepted = new Promise<net.Socket>((resolve) => server.http.once('connection', resolve));
  const socket = await connect(server.port);
  const serverSide = await accepted;
  socket.setEncoding('utf8');
  let received = '';
  socket.on('data', (chunk: string) => (received += chunk));
  const closedByServer = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  // Half a request: the server is reading it when shutdown begins.
  socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  while (serverSide.bytesRead === 0) await new Promise((resolve) => setImmediate(resolve));
  const closing = server.close();
  socket.write('Connection: keep-alive\r\n\r\n');
  await closing;
  await closedByServer;
  expect(received).toMatch(/^HTTP\/1\.1 200 /);
});
