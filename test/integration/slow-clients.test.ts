// Slow clients (slowloris) cannot hold a connection: a client that dribbles its headers
// or its body is cut off once HEADERS_TIMEOUT_MS or REQUEST_TIMEOUT_MS has passed.
import net from 'node:net';
import { expect, it } from 'vitest';
import { useTestServer } from '../support/server.ts';

const server = useTestServer({ HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '2000' });

interface SlowClient {
  /** Everything the server sent. */
  received: string;
  /** Bytes of the request not yet sent when the server closed the connection. */
  unsent: number;
}

/** Sends `prefix` at once, then `slow` one byte every `gapMs`, until done or the server hangs up. */
function dribble(port: number, prefix: string, slow: string, gapMs: number): Promise<SlowClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const bytes = Buffer.from(slow);
    let sent = 0;
    let received = '';
    let timer: NodeJS.Timeout | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => undefined); // a reset is one way of being cut off
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ received, unsent: bytes.length - sent });
    });
    socket.once('connect', () => {
      socket.write(prefix);
      next();
    });
    function next() {
      if (sent === bytes.length) return reject(new Error('the server let the slow client finish'));
      if (!socket.destroyed) socket.write(bytes.subarray(sent, sent + 1));
      sent += 1;
      timer = setTimeout(next, gapMs);
    }
  });
}

// At 100 ms a byte, each request below would take 20 s or more to send in full; the
// timeouts are 1 s and 2 s. The test's time limit only stops a server that lets it finish.
it('cuts off a client that sends its headers byte by byte', { timeout: 40_000 }, async () => {
  const request = `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(200)}\r\n\r\n`;
  const client = await dribble(server.current.port, '', request, 100);
  expect(client.unsent).toBeGreaterThan(0);
  expect(client.received).toMatch(/^HTTP\/1\.1 408 /);
});

it('cuts off a client that sends its body byte by byte', { timeout: 40_000 }, async () => {
  const body = `username=${'a'.repeat(200)}`;
  const head = `POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`;
  // The headers arrive at once; only the body is slow.
  const client = await dribble(server.current.port, head, body, 100);
  expect(client.unsent).toBeGreaterThan(0);
  expect(client.received).toMatch(/^HTTP\/1\.1 408 /);
});

it('still serves a client that sends its request at a normal pace', async () => {
  const res = await fetch(`${server.current.url}/healthz`);
  expect(res.status).toBe(200);
});
