// The bare relay's capacity and latency: the transport's ceiling, against which
// Parley's message path is judged.
import path from 'node:path';
import { anonymousUsers, type MessagingTarget } from '../lib/message-clients.ts';
import { describeMessaging, measureMessaging } from '../lib/messaging-bench.ts';
import { projectRoot, type BenchOptions } from '../lib/options.ts';
import { startChildServer, type ChildServer } from '../lib/processes.ts';
import type { ScenarioReport } from '../lib/report-model.ts';

export function startRelay(): Promise<ChildServer> {
  return startChildServer({
    name: 'relay',
    script: path.join(projectRoot, 'bench/servers/relay-server.ts'),
    env: { NODE_ENV: 'production' },
    readyPath: '/healthz',
  });
}

export function relayTarget(server: ChildServer): MessagingTarget {
  return { name: 'relay', url: server.url, createUsers: async (count, label) => anonymousUsers(count, label) };
}

export async function relayScenario(options: BenchOptions, progress: (line: string) => void): Promise<ScenarioReport> {
  const server = await startRelay();
  try {
    const measured = await measureMessaging(relayTarget(server), options.relay, server.sample, progress);
    const described = describeMessaging('relay', 'Relay', measured);
    return {
      id: 'relay',
      title: 'Relay: the bare Socket.IO transport',
      method:
        'A Socket.IO server in a child process with Parley’s events (`adduser`, `privatemsg` with its acknowledgement, ' +
        '`sendback` to the recipient’s room) and nothing else: no session, no storage. Clients use `socket.io-client` ' +
        `over websockets from the bench process; messages carry ${options.relay.contentLength} characters.`,
      ...described,
      notes: measured.unexpectedDisconnects ? [`${measured.unexpectedDisconnects} client(s) disconnected unexpectedly during the run.`] : [],
    };
  } finally {
    await server.stop();
  }
}
