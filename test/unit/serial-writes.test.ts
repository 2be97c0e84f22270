import { describe, expect, it } from 'vitest';
import { createSerialWrites } from '../../src/db/serial-writes.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A write that notes when it starts and ends, with a turn of the event loop between. */
function loggedWrite(log: string[], name: string) {
  return async () => {
    log.push(`start ${name}`);
    await tick();
    log.push(`end ${name}`);
    return name;
  };
}

describe('serial writes', () => {
  it('runs the writes of one key one after another, in order', async () => {
    const writes = createSerialWrites();
    const log: string[] = [];
    const write = (name: string) => loggedWrite(log, name);
    const results = await Promise.all([writes.run('k', write('a')), writes.run('k', write('b')), writes.run('k', write('c'))]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('lets different keys run side by side', async () => {
    const writes = createSerialWrites();
    const log: string[] = [];
    const write = (name: string) => loggedWrite(log, name);
    await Promise.all([writes.run('x', write('x')), writes.run('y', write('y'))]);
    expect(log.slice(0, 2)).toEqual(['start x', 'start y']);
  });

  it('goes on after a failed write, and forgets idle keys', async () => {
    const writes = createSerialWrites();
    const failed = writes.run('k', async () => {
      throw new Error('boom');
    });
    const next = writes.run('k', async () => 'next');
    await expect(failed).rejects.toThrow('boom');
    expect(await next).toBe('next');
    await tick();
    expect(writes.pending).toBe(0);
  });
});
