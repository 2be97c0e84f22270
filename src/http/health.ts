// Whether the database answers, for /healthz. The driver's own view (connected or not)
// lags a dead server by up to a heartbeat and a server-selection timeout, while sends
// already fail: a real round trip (ping) says it at once. Its answer is kept for a
// moment (HEALTH_CACHE_MS), so a load balancer polling often costs the database little,
// and callers arriving together share one ping.
import { withDeadline } from '../messaging/in-flight.ts';

/** A ping that takes longer than this counts as no answer. */
const PING_TIMEOUT_MS = 2000;

export interface HealthDeps {
  /** The driver's view: false means down without asking. */
  isConnected(): boolean;
  /** One round trip to the database; rejects when it does not answer. */
  ping(): Promise<unknown>;
  cacheMs: number;
}

export function databaseHealth(deps: HealthDeps): () => Promise<boolean> {
  let last: { ok: boolean; at: number } | undefined;
  let asking: Promise<boolean> | undefined;
  return async () => {
    if (!deps.isConnected()) return false;
    if (last && Date.now() - last.at < deps.cacheMs) return last.ok;
    asking ??= withDeadline(
      deps.ping().then(() => true, () => false),
      PING_TIMEOUT_MS,
      () => false,
    ).then((ok) => {
      last = { ok, at: Date.now() };
      asking = undefined;
      return ok;
    });
    return asking;
  };
}
