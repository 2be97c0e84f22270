// Each test file gets a database of its own on the shared server.
import crypto from 'node:crypto';
import { inject } from 'vitest';
import { withDatabaseName } from '../../src/db/embedded.ts';

export function testDatabaseUri(label = 'test'): string {
  const base = inject('mongoUri');
  const name = `t_${label.replace(/\W/g, '').slice(0, 20)}_${crypto.randomBytes(4).toString('hex')}`;
  return withDatabaseName(base, name);
}
