// Express hello-world, the yardstick for Parley's pages: the same framework answering
// with no middleware, no template and no database. Started with NODE_ENV=production.
import express from 'express';
import { listenPort, serveUnderBench } from './child-hooks.ts';

const app = express();
app.disable('x-powered-by');
app.get('/', (_req, res) => {
  res.send('Hello World!');
});

const server = app.listen(listenPort(), '127.0.0.1');
serveUnderBench(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);
