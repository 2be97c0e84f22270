// "Measure this URL on this server": requests per second and latency of one page under
// a fixed number of keep-alive connections, with autocannon, after a short warm-up.
import autocannon from 'autocannon';

export interface PageRequest {
  /** Path and query, e.g. "/posts/66a…". */
  path: string;
  /** A session cookie, for pages that need a signed-in user. */
  headers?: Record<string, string>;
}

export interface PageLoad {
  connections: number;
  warmupSeconds: number;
  seconds: number;
}

export interface PageResult {
  requestsPerSecond: number;
  latencyP50: number;
  latencyP99: number;
  /** Finer than the percentiles, which autocannon keeps in whole milliseconds. */
  latencyMean: number;
  requests: number;
  /** Answers other than 2xx, and connection errors: a page that fails is not fast. */
  failures: number;
}

function fire(url: string, request: PageRequest, connections: number, seconds: number): Promise<autocannon.Result> {
  return autocannon({ url: `${url}${request.path}`, headers: request.headers, connections, duration: seconds });
}

export async function measurePage(baseUrl: string, request: PageRequest, load: PageLoad): Promise<PageResult> {
  if (load.warmupSeconds > 0) await fire(baseUrl, request, load.connections, load.warmupSeconds);
  const result = await fire(baseUrl, request, load.connections, load.seconds);
  return {
    requestsPerSecond: result.requests.total / result.duration,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    latencyMean: result.latency.mean,
    requests: result.requests.total,
    failures: result.non2xx + result.errors,
  };
}
