// Resident memory per idle connected socket on the relay: the yardstick for Parley's.
import { formatNumber, type ScenarioReport } from '../lib/report-model.ts';
import type { BenchOptions } from '../lib/options.ts';
import { measureSocketMemory } from '../lib/socket-memory.ts';
import { relayTarget, startRelay } from './relay.ts';

const MiB = 1024 * 1024;

export async function memoryScenario(options: BenchOptions, progress: (line: string) => void): Promise<ScenarioReport> {
  const server = await startRelay();
  try {
    const m = await measureSocketMemory(relayTarget(server), server, options.memory.sockets);
    progress(`relay memory: ${formatNumber(m.bytesPerSocket / 1024)} KiB per idle socket`);
    return {
      id: 'memory',
      title: 'Memory per idle socket',
      method:
        `Resident memory (VmRSS) of the relay’s process, after a garbage collection, before and after ${formatNumber(m.sockets, 0)} websocket clients ` +
        'connect and announce themselves with `adduser`, divided by the number of sockets.',
      figures: [
        { key: 'relay.memoryPerSocket', label: `Relay, per idle socket (${formatNumber(m.sockets, 0)} sockets)`, value: m.bytesPerSocket / 1024, unit: 'KiB', chart: 'memory' },
      ],
      tables: [
        {
          head: ['server', 'sockets', 'RSS before (MiB)', 'RSS after (MiB)', 'per socket (KiB)'],
          rows: [['relay', formatNumber(m.sockets, 0), formatNumber(m.rssBeforeBytes / MiB), formatNumber(m.rssAfterBytes / MiB), formatNumber(m.bytesPerSocket / 1024)]],
        },
      ],
      integrity: [],
      notes: [],
    };
  } finally {
    await server.stop();
  }
}
