// A TCP proxy in front of the app that a test can cut: while blocked, every connection
// through it is dropped at once, the way a lost network looks to a client, and the
// client's own reconnection has to bring it back once it is unblocked.
import net from 'node:net';

export interface CuttableProxy {
  /** `http://127.0.0.1:<proxy port>`: connect here instead of to the app. */
  readonly url: string;
  /** Drops every open connection and refuses new ones until `unblock()`. */
  block(): void;
  unblock(): void;
  close(): Promise<void>;
}

export async function startCuttableProxy(targetPort: number): Promise<CuttableProxy> {
  const open = new Set<net.Socket>();
  let blocked = false;
  const server = net.createServer((client) => {
    if (blocked) return void client.destroy();
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair = [client, upstream];
    const drop = () => pair.forEach((socket) => socket.destroy());
    for (const socket of pair) {
      open.add(socket);
      socket.once('close', () => {
        open.delete(socket);
        drop();
      });
      socket.on('error', drop);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const block = () => {
    blocked = true;
    for (const socket of open) socket.destroy();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    block,
    unblock() {
      blocked = false;
    },
    close() {
      block();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
