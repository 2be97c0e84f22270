// What the figures were measured on: they mean little without it.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FERRETDB_VERSION } from '../../src/db/embedded.ts';
import { projectRoot } from './options.ts';

export interface Machine {
  cpu: string;
  cores: number;
  memory: string;
  os: string;
  node: string;
  engine: string;
  libraries: string;
}

function installedVersion(name: string): string {
  try {
    const file = path.join(projectRoot, 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() || 'unknown CPU';
  const mhz = cpus[0]?.speed;
  return {
    cpu: mhz ? `${model} (${mhz} MHz)` : model,
    cores: cpus.length,
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    engine: `FerretDB ${FERRETDB_VERSION}, SQLite backend (embedded)`,
    libraries: ['socket.io', 'socket.io-client', 'express', 'mongodb', 'autocannon'].map((n) => `${n} ${installedVersion(n)}`).join(', '),
  };
}
