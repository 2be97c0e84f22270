// Loaded into the app's process by the soak run (`node --import`), beside an unchanged
// `src/server.ts`: answers "memory" over the IPC channel with process.memoryUsage()
// taken after full garbage collections, and shuts the app down when the run goes away.
const collect = (globalThis as { gc?: () => void }).gc;
if (!collect) throw new Error('the memory probe needs node --expose-gc');

process.on('message', (message: unknown) => {
  if (message !== 'memory') return;
  // Twice: the first pass can leave objects that only the second finds unreachable.
  collect();
  collect();
  process.send?.({ memory: process.memoryUsage() });
});

process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
