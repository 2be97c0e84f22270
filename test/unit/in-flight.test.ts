import { describe, expect, it } from 'vitest';
import { createInFlight, withDeadline } from '../../src/messaging/in-flight.ts';

/** A promise the test settles when it wants. */
function gate<T>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

describe('writes in flight', () => {
  it('closing stops accepting at once and resolves when the running writes have settled', async () => {
    const inFlight = createInFlight();
    const first = gate<string>();
    const failing = gate<void>();
    const done = inFlight.run(() => first.promise);
    const rejected = inFlight.run(() => failing.promise.then(() => Promise.reject(new Error('write failed'))));
    let closed = false;
    const closing = inFlight.close(60_000).then(() => (closed = true));
    expect(inFlight.accepting).toBe(false);
    expect(inFlight.size).toBe(2);
    first.open('stored');
    expect(await done).toBe('stored');
    expect(closed).toBe(false);
    failing.open();
    await expect(rejected).rejects.toThrow('write failed');
    await closing;
    expect(inFlight.size).toBe(0);
  });

  it('closing gives up waiting after its timeout', async () => {
    const inFlight = createInFlight();
    void inFlight.run(() => new Promise(() => undefined));
    await inFlight.close(10);
    expect(inFlight.size).toBe(1);
  });
});

describe('withDeadline', () => {
  it('answers with the work when it finishes in time, and with the late answer otherwise', async () => {
    expect(await withDeadline(Promise.resolve('in time'), 1000, () => 'late')).toBe('in time');
    const slow = gate<string>();
    expect(await withDeadline(slow.promise, 5, () => 'late')).toBe('late');
    slow.open('finished anyway');
    expect(await slow.promise).toBe('finished anyway');
  });
});
