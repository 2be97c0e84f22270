// What the command-line scripts (seed, admin) share about the database they open.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';

/** With the embedded FerretDB, starting a second one on the app's data would stop the app's. */
export function embeddedDatabaseInUse(config: Config): boolean {
  if (config.mongodbUri) return false;
  const pidFile = path.join(config.dataDir, 'ferretdb', 'ferretdb.pid');
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && existsSync(`/proc/${pid}`);
}
