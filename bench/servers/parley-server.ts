// Parley itself, started the way `npm start` does (config from the environment, the
// embedded database when MONGODB_URI is unset), plus the bench's child hooks.
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startServer } from '../../src/server.ts';
import { serveUnderBench } from './child-hooks.ts';

const config = loadConfig();
const running = await startServer(config, createLogger(config));
serveUnderBench(() => running.close());
