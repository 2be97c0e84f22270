import { describe, expect, it } from 'vitest';
import { createSerialWrites } from '../../src/db/serial-writes.ts';

/** A write that finishes when the test says so, recording when it started. */
function gate(log: string[], name: string) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return {
    write: async () => {
      log.push(`start ${name}`);
      await opened;
      log.push(`end ${name}`);
      return name;
    },
    open: () => open(),
  };
}

describe('serial writes', () => {
  it('runs writes to one key one at a time, in order, and writes to other keys alongside', async () => {
    const serial = createSerialWrites();
    const log: string[] = [];
    const [a1, a2, b1] = [gate(log, 'a1'), gate(log, 'a2'), gate(log, 'b1')];
    const results = [serial.run('a', a1.write), serial.run('a', a2.write), serial.run('b', b1.write)];
    await Promise.resolve();
    await Promise.resolve();
    expect(log).toEqual(['start a1', 'start b1']);
    a2.open();
    b1.open();
    await results[2];
    expect(log).not.toContain('start a2');
    a1.open();
    expect(await Promise.all(results)).toEqual(['a1', 'a2', 'b1']);
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
  });

  it('lets a failed write reject its caller without blocking the next one, and forgets idle keys', async () => {
    const serial = createSerialWrites();
    const failed = serial.run('k', async () => {
      throw new Error('boom');
    });
    const next = serial.run('k', async () => 'next');
    await expect(failed).rejects.toThrow('boom');
    expect(await next).toBe('next');
    await new Promise((resolve) => setImmediate(resolve));
    expect(serial.pending).toBe(0);
  });
});
