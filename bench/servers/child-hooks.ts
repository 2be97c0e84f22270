// What every server started by the bench does, beside serving: it exits with its
// parent (the IPC channel closing covers a parent killed outright), stops on SIGTERM,
// and collects garbage when asked so that memory readings settle.

export function serveUnderBench(close: () => Promise<void>): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('message', (message: unknown) => {
    if ((message as { type?: string })?.type !== 'gc') return;
    globalThis.gc?.();
    process.send?.({ type: 'gc-done' });
  });
}

export function listenPort(): number {
  const port = Number(process.env.PORT);
  if (!Number.isInteger(port) || port <= 0) throw new Error('PORT must be set by the bench');
  return port;
}
