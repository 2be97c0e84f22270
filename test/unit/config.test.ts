import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

describe('config', () => {
  it('gives working defaults with an empty environment', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.dbEngine).toBe('auto');
    expect(config.mongodbUri).toBeUndefined();
    expect(config.limits.messageMaxLength).toBe(2000);
    expect(config.limits.rateLimitsEnabled).toBe(true);
    expect(config.limits.messageRate).toEqual({ points: 30, durationSeconds: 30 });
    expect(config.limits.postTitleMaxLength).toBe(120);
    expect(config.limits.postMaxLength).toBe(5000);
    expect(config.readCacheMs).toBe(1000);
  });

  it('parses rates written as count/duration', () => {
    const config = loadConfig({ MESSAGE_RATE: '5/2m', LOGIN_RATE_PER_IP: '100/1h' });
    expect(config.limits.messageRate).toEqual({ points: 5, durationSeconds: 120 });
    expect(config.limits.loginRatePerIp).toEqual({ points: 100, durationSeconds: 3600 });
  });

  it('reads the forum limits and the read cache, 0 turning the cache off', () => {
    const config = loadConfig({ POST_MAX_LENGTH: '200', POST_TITLE_MAX_LENGTH: '50', READ_CACHE_MS: '0' });
    expect(config.limits.postMaxLength).toBe(200);
    expect(config.limits.postTitleMaxLength).toBe(50);
    expect(config.readCacheMs).toBe(0);
    expect(() => loadConfig({ READ_CACHE_MS: '-1' })).toThrow(/READ_CACHE_MS/);
  });

  it('turns rate limits off only when asked', () => {
    expect(loadConfig({ RATE_LIMITS: 'off' }).limits.rateLimitsEnabled).toBe(false);
  });

  it('fails fast, naming every bad value', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'abc', MONGODB_URI: 'http://x', MESSAGE_RATE: 'lots', DB_ENGINE: 'sqlite' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['PORT', 'MONGODB_URI', 'MESSAGE_RATE', 'DB_ENGINE']) expect(message).toContain(name);
  });

  it('runs without Redis unless REDIS_URL is set, and locks across processes only with it', () => {
    const single = loadConfig({});
    expect(single.redisUrl).toBeUndefined();
    expect(single.redisPrefix).toBe('parley');
    expect(single.crossProcessLocks).toBe('auto');
    const scaled = loadConfig({ REDIS_URL: 'redis://redis:6379', REDIS_PREFIX: 'forum-2', CROSS_PROCESS_LOCKS: 'on' });
    expect(scaled).toMatchObject({ redisUrl: 'redis://redis:6379', redisPrefix: 'forum-2', crossProcessLocks: 'on' });
    expect(() => loadConfig({ CROSS_PROCESS_LOCKS: 'on' })).toThrow(/CROSS_PROCESS_LOCKS.*REDIS_URL/);
    expect(() => loadConfig({ REDIS_PREFIX: 'a b' })).toThrow(/REDIS_PREFIX/);
    expect(() => loadConfig({ REDIS_URL: 'localhost:6379' })).toThrow(/REDIS_URL/);
  });

  it('reads the timeouts against slow clients, refusing headers allowed longer than the request', () => {
    expect(loadConfig({}).limits).toMatchObject({ headersTimeoutMs: 20_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 });
    const config = loadConfig({ HEADERS_TIMEOUT_MS: '500', REQUEST_TIMEOUT_MS: '800', KEEP_ALIVE_TIMEOUT_MS: '100' });
    expect(config.limits).toMatchObject({ headersTimeoutMs: 500, requestTimeoutMs: 800, keepAliveTimeoutMs: 100 });
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '40000' })).toThrow(/HEADERS_TIMEOUT_MS: must not be longer than REQUEST_TIMEOUT_MS/);
  });

  it('rejects a short session secret', () => {
    expect(() => loadConfig({ SESSION_SECRET: 'short' })).toThrow(/SESSION_SECRET/);
  });
});
