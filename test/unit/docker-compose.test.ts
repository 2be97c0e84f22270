// No Docker engine runs here, so the production compose file is checked by reading it.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };

describe('docker-compose.yml', () => {
  it('runs MongoDB, Redis and the app, each with a health check', () => {
    const { mongo, redis, app } = compose.services;
    expect(mongo?.image).toMatch(/^mongo:/);
    expect(redis?.image).toMatch(/^redis:/);
    expect(app?.build).toBeDefined();
    for (const service of [mongo, redis, app]) expect(service?.healthcheck?.test.length).toBeGreaterThan(0);
    expect(app?.healthcheck?.test.join(' ')).toContain('/healthz');
  });

  it('wires the app to its database and Redis, and waits for them to be healthy', () => {
    const app = compose.services.app!;
    const env = app.environment!;
    expect(env.MONGODB_URI).toMatch(/^mongodb:\/\/mongo:27017\//);
    expect(env.REDIS_URL).toBe('redis://redis:6379');
    expect(env.SESSION_SECRET).toBeDefined();
    expect(env.NODE_ENV).toBe('production');
    expect(app.depends_on).toEqual({ mongo: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    expect(app.ports).toContain(`${env.PORT}:${env.PORT}`);
  });

  it('only sets variables the app understands, with values it accepts', () => {
    const env = { ...compose.services.app!.environment!, SESSION_SECRET: 'x'.repeat(32), TRUST_PROXY: 'false' };
    expect(() => loadConfig(env)).not.toThrow();
  });

  it('keeps data in named volumes', () => {
    expect(compose.services.mongo!.volumes).toContain('mongo-data:/data/db');
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(['mongo-data', 'redis-data', 'app-data']));
  });
});

describe('docker-compose.yml, scaled profile', () => {
  const services = compose.services as Record<string, Service & { profiles?: string[] }>;

  it('adds a second app process, identical to the first, sharing MongoDB and Redis', () => {
    const second = services['app-2']!;
    expect(second.profiles).toEqual(['scaled']);
    expect(second.environment).toEqual(services.app!.environment);
    expect(second.environment!.REDIS_URL).toBe('redis://redis:6379');
    expect(second.ports).toEqual([]);
  });

  it('puts nginx in front of both with sticky sessions and WebSocket upgrades', () => {
    const nginx = services.nginx!;
    expect(nginx.profiles).toEqual(['scaled']);
    expect(Object.keys(nginx.depends_on ?? {})).toEqual(['app', 'app-2']);
    const mount = nginx.volumes!.find((v) => v.includes('/etc/nginx/conf.d/'))!;
    const conf = readFileSync(mount.split(':')[0]!, 'utf8');
    expect(conf).toMatch(/upstream parley \{[^}]*ip_hash;[^}]*server app:3000;[^}]*server app-2:3000;/s);
    expect(conf).toMatch(/proxy_set_header Upgrade \$http_upgrade/);
    expect(conf).toMatch(/proxy_set_header Connection \$connection_upgrade/);
  });
});
