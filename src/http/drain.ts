// Ending a server's connections promptly on shutdown. server.close() only stops accepting
// and ends the connections idle at that moment; io.close() then waits for every connection.
// A real browser keeps others: one busy at that moment stays open for keepAliveTimeout
// after its response, and one it opened ahead of need (preconnect) has sent nothing, which
// Node does not count as idle, so it stays until headersTimeout. Either held shutdown far
// past SHUTDOWN_TIMEOUT_MS when a browser had the app open.
import type http from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionDrain {
  /** Ends connections as they fall idle and all of them after timeoutMs; returns a stop function. */
  start(timeoutMs: number): () => void;
}

/** Call right after creating the server, so that every connection is seen. */
export function trackConnections(server: http.Server): ConnectionDrain {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const sweep = () => {
    server.closeIdleConnections();
    for (const socket of sockets) {
      if (socket.bytesRead === 0) socket.destroy(); // opened, never asked for anything
    }
  };

  return {
    start(timeoutMs) {
      sweep();
      const interval = setInterval(sweep, 100);
      const deadline = setTimeout(() => server.closeAllConnections(), timeoutMs);
      return () => {
        clearInterval(interval);
        clearTimeout(deadline);
      };
    },
  };
}
