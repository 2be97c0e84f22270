// Resident memory per idle connected socket: the relay's, the yardstick, then Parley's,
// by the same procedure, with signed-in sockets.
import { formatNumber, type Figure, type ScenarioReport } from '../lib/report-model.ts';
import type { BenchOptions } from '../lib/options.ts';
import { startParleyFixture } from '../lib/parley-fixture.ts';
import { measureSocketMemory, type SocketMemory } from '../lib/socket-memory.ts';
import { relayTarget, startRelay } from './relay.ts';

const MiB = 1024 * 1024;

async function relayMemory(options: BenchOptions): Promise<SocketMemory> {
  const server = await startRelay();
  try {
    return await measureSocketMemory(relayTarget(server), server, options.memory.sockets);
  } finally {
    await server.stop();
  }
}

async function parleyMemory(options: BenchOptions): Promise<SocketMemory> {
  const fixture = await startParleyFixture();
  try {
    return await measureSocketMemory(fixture.target(), fixture.server, options.memory.sockets);
  } finally {
    await fixture.cleanup();
  }
}

/** The median reading of `rounds`, each from a freshly started server; all readings kept for the table. */
async function medianOf(rounds: number, measure: () => Promise<SocketMemory>): Promise<SocketMemory & { perRound: number[] }> {
  const readings: SocketMemory[] = [];
  for (let i = 0; i < rounds; i++) readings.push(await measure());
  const sorted = [...readings].sort((a, b) => a.bytesPerSocket - b.bytesPerSocket);
  return { ...sorted[Math.floor(sorted.length / 2)]!, perRound: readings.map((r) => r.bytesPerSocket) };
}

export async function memoryScenario(options: BenchOptions, progress: (line: string) => void): Promise<ScenarioReport> {
  const relay = await medianOf(options.memory.rounds, () => relayMemory(options));
  progress(`relay memory: ${formatNumber(relay.bytesPerSocket / 1024)} KiB per idle socket`);
  const parley = await medianOf(options.memory.rounds, () => parleyMemory(options));
  progress(`Parley memory: ${formatNumber(parley.bytesPerSocket / 1024)} KiB per idle signed-in socket`);

  const figure = (key: string, label: string, m: SocketMemory): Figure => ({
    key,
    label: `${label}, per idle socket (${formatNumber(m.sockets, 0)} sockets)`,
    value: m.bytesPerSocket / 1024,
    unit: 'KiB',
    chart: 'memory',
  });
  const row = (server: string, m: SocketMemory & { perRound: number[] }) => [
    server,
    formatNumber(m.sockets, 0),
    formatNumber(m.rssBeforeBytes / MiB),
    formatNumber(m.rssAfterBytes / MiB),
    formatNumber(m.bytesPerSocket / 1024),
    m.perRound.map((b) => formatNumber(b / 1024)).join(', '),
  ];
  return {
    id: 'memory',
    title: 'Memory per idle socket',
    method:
      `Resident memory (VmRSS) of the server’s process, after a garbage collection, before and after ${formatNumber(relay.sockets, 0)} websocket clients ` +
      `connect and announce themselves with \`adduser\`, divided by the number of sockets: the median of ${relay.perRound.length} readings, ` +
      'each from a freshly started server (single readings vary by a quarter). Parley’s clients are signed-in members ' +
      '(each socket’s handshake carries its own session cookie, read from the database); its figure is the Parley process alone: ' +
      'the database engine is another process (the bench’s child, not the app’s), and what it holds for the sessions is not counted.',
    figures: [figure('relay.memoryPerSocket', 'Relay', relay), figure('parley.memoryPerSocket', 'Parley', parley)],
    tables: [
      {
        head: ['server', 'sockets', 'RSS before (MiB)', 'RSS after (MiB)', 'per socket (KiB), median', 'each start (KiB)'],
        rows: [row('relay', relay), row('Parley', parley)],
      },
    ],
    integrity: [],
    notes: [],
  };
}
