// The Socket.IO server on the app's HTTP server.
import type http from 'node:http';
import type { RequestHandler } from 'express';
import { Server } from 'socket.io';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';

export interface RealtimeDeps {
  config: Config;
  log: Logger;
  session: RequestHandler;
}

export function createRealtime(httpServer: http.Server, deps: RealtimeDeps): Server {
  const io = new Server(httpServer, {
    maxHttpBufferSize: deps.config.limits.socketMaxBufferBytes,
    serveClient: true,
  });
  return io;
}
