import { pino, type Logger } from 'pino';
import type { Config } from './config.ts';

export type { Logger };

export function createLogger(config: Pick<Config, 'logLevel' | 'env'>): Logger {
  return pino({
    level: config.logLevel,
    base: undefined,
    // Never log cookies or passwords, even at debug level.
    redact: ['req.headers.cookie', 'password', '*.password'],
  });
}
