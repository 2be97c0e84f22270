// Every rate limit in one place, from the limits in config. With REDIS_URL the
// counters live in Redis so that a limit holds across processes; otherwise in memory.
// While Redis is away, each process counts in memory instead (rate-limiter-flexible's
// insurance limiter): limits loosen to per process rather than every request failing.
// RATE_LIMITS=off swaps in limiters that always allow (for benchmarks).
import type { RedisLink } from '../db/redis.ts';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config, Rate } from '../config.ts';

export type LimitResult = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface Limiter {
  consume(key: string): Promise<LimitResult>;
  /** Forgets a key, e.g. the per-account login counter after a successful login. */
  reset(key: string): Promise<void>;
}

export interface Limiters {
  message: Limiter;
  loginPerIp: Limiter;
  loginPerAccount: Limiter;
  register: Limiter;
  post: Limiter;
  report: Limiter;
  preview: Limiter;
  block: Limiter;
  suggest: Limiter;
  watchPresence: Limiter;
  passwordResetPerAddress: Limiter;
  passwordResetPerAccount: Limiter;
  emailChange: Limiter;
}

const unlimited: Limiter = {
  consume: async () => ({ ok: true }),
  reset: async () => undefined,
};

function wrap(limiter: RateLimiterAbstract): Limiter {
  return {
    async consume(key) {
      try {
        await limiter.consume(key);
        return { ok: true };
      } catch (res) {
        if (res instanceof RateLimiterRes) {
          return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
        }
        throw res; // a store failure, not a limit
      }
    },
    async reset(key) {
      await limiter.delete(key);
    },
  };
}

export function createLimiters(config: Pick<Config, 'limits'>, redis?: Pick<RedisLink, 'client' | 'key'>): Limiters {
  const { limits } = config;
  const make = (name: string, rate: Rate): Limiter => {
    if (!limits.rateLimitsEnabled) return unlimited;
    const options = { points: rate.points, duration: rate.durationSeconds, keyPrefix: `rl:${name}` };
    const inMemory = new RateLimiterMemory(options);
    if (!redis) return wrap(inMemory);
    return wrap(
      new RateLimiterRedis({
        ...options,
        keyPrefix: redis.key(options.keyPrefix),
        storeClient: redis.client,
        insuranceLimiter: inMemory,
        // While the connection is down, count in memory at once rather than after a failed retry.
        rejectIfRedisNotReady: true,
      }),
    );
  };
  return {
    message: make('message', limits.messageRate),
    loginPerIp: make('login-ip', limits.loginRatePerIp),
    loginPerAccount: make('login-account', limits.loginRatePerAccount),
    register: make('register', limits.registerRate),
    post: make('post', limits.postRate),
    report: make('report', limits.reportRate),
    preview: make('preview', limits.previewRate),
    block: make('block', limits.blockRate),
    suggest: make('suggest', limits.suggestRate),
    watchPresence: make('watch-presence', limits.watchPresenceRate),
    passwordResetPerAddress: make('reset-address', limits.passwordResetRatePerAddress),
    passwordResetPerAccount: make('reset-account', limits.passwordResetRatePerAccount),
    emailChange: make('email-change', limits.emailChangeRate),
  };
}
