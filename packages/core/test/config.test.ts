import { describe, it, expect } from '@jest/globals';
import { ConfigError, parseConfig } from '../src/index.js';

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('applies the contract defaults to an empty environment', () => {
    expect(parseConfig({})).toEqual({
      databaseUrl: 'postgresql://postgres:postgres@127.0.0.1:5432/hooklane',
      redisUrl: 'redis://127.0.0.1:6379',
      port: 3000,
      workerConcurrency: 50,
      metricsPort: 9464,
      adminToken: undefined,
      allowPrivateTargets: false,
      queuePrefix: 'hooklane',
      maxInFlightPerWebhook: 10,
      logLevel: 'info',
      shutdownGraceMs: 30_000,
      sweeperIntervalMs: 5_000,
      autoDisableAfterMs: 86_400_000,
      dbTimeoutMs: 3_000,
      dbPoolSize: 10,
      host: '0.0.0.0',
      maxWebhooksPerTeam: 1000,
      metricsHost: undefined,
      metricsToken: undefined,
      portalSecret: undefined,
      portalFrameAncestors: "'self'",
      portalAssetsDir: undefined,
      retentionDays: 30,
      retentionIntervalMs: 3_600_000,
      redisMode: 'standalone',
      redisSentinelName: undefined,
      queuePartitions: 1,
    });
  });

  it('reads every variable', () => {
    const config = parseConfig({
      DATABASE_URL: 'postgres://u:p@db:5432/x',
      REDIS_URL: 'rediss://cache:6380/2',
      PORT: '8080',
      WORKER_CONCURRENCY: '4',
      METRICS_PORT: '0',
      ADMIN_TOKEN: 'dev-token',
      ALLOW_PRIVATE_TARGETS: 'true',
      QUEUE_PREFIX: 'test-1',
      MAX_IN_FLIGHT_PER_WEBHOOK: '2',
      LOG_LEVEL: 'DEBUG',
      SHUTDOWN_GRACE_MS: '0',
      SWEEPER_INTERVAL_MS: '250',
      AUTO_DISABLE_AFTER_MS: '60000',
      DB_TIMEOUT_MS: '500',
      DB_POOL_SIZE: '4',
      HOST: '127.0.0.1',
      MAX_WEBHOOKS_PER_TEAM: '25',
      METRICS_HOST: '10.0.0.5',
      METRICS_TOKEN: 'scrape-token',
      PORTAL_SECRET: 'portal-secret-0123456789',
      PORTAL_FRAME_ANCESTORS: "'self' https://app.example.com",
      PORTAL_ASSETS_DIR: '/srv/dashboard',
      RETENTION_DAYS: '0',
      RETENTION_INTERVAL_MS: '60000',
      REDIS_MODE: 'standalone',
      QUEUE_PARTITIONS: '3',
    });
    expect(config).toEqual({
      databaseUrl: 'postgres://u:p@db:5432/x',
      redisUrl: 'rediss://cache:6380/2',
      port: 8080,
      workerConcurrency: 4,
      metricsPort: 0,
      adminToken: 'dev-token',
      allowPrivateTargets: true,
      queuePrefix: 'test-1',
      maxInFlightPerWebhook: 2,
      logLevel: 'debug',
      shutdownGraceMs: 0,
      sweeperIntervalMs: 250,
      autoDisableAfterMs: 60_000,
      dbTimeoutMs: 500,
      dbPoolSize: 4,
      host: '127.0.0.1',
      maxWebhooksPerTeam: 25,
      metricsHost: '10.0.0.5',
      metricsToken: 'scrape-token',
      portalSecret: 'portal-secret-0123456789',
      portalFrameAncestors: "'self' https://app.example.com",
      portalAssetsDir: '/srv/dashboard',
      retentionDays: 0,
      retentionIntervalMs: 60_000,
      redisMode: 'standalone',
      redisSentinelName: undefined,
      queuePartitions: 3,
    });
  });

  it('refuses a negative or fractional RETENTION_DAYS, naming it', () => {
    for (const value of ['-1', '1.5', 'forever', '36501']) {
      const error = errorOf(() => parseConfig({ RETENTION_DAYS: value }));
      expect(error.issues).toEqual([{ variable: 'RETENTION_DAYS', message: expect.stringContaining('RETENTION_DAYS must') }]);
    }
  });

  it('refuses a pool size of 0 or beyond 1000, naming DB_POOL_SIZE', () => {
    for (const value of ['0', '1001', '-3', 'ten']) {
      const error = errorOf(() => parseConfig({ DB_POOL_SIZE: value }));
      expect(error.issues).toEqual([{ variable: 'DB_POOL_SIZE', message: expect.stringContaining('DB_POOL_SIZE must') }]);
    }
    expect(parseConfig({ DB_POOL_SIZE: '1000' }).dbPoolSize).toBe(1000);
  });

  it('treats an empty string as unset', () => {
    const config = parseConfig({ PORT: '', ADMIN_TOKEN: '', LOG_LEVEL: '  ', ALLOW_PRIVATE_TARGETS: '' });
    expect(config.port).toBe(3000);
    expect(config.adminToken).toBeUndefined();
    expect(config.logLevel).toBe('info');
    expect(config.allowPrivateTargets).toBe(false);
  });

  it('reads booleans in several spellings, case-insensitively', () => {
    for (const [text, value] of [
      ['true', true],
      ['TRUE', true],
      ['1', true],
      ['Yes', true],
      ['false', false],
      ['False', false],
      ['0', false],
      ['NO', false],
    ] as const) {
      expect(parseConfig({ ALLOW_PRIVATE_TARGETS: text }).allowPrivateTargets).toBe(value);
    }
    expect(errorOf(() => parseConfig({ ALLOW_PRIVATE_TARGETS: 'maybe' })).message).toContain('ALLOW_PRIVATE_TARGETS');
  });

  it('names the variable and the value in the error', () => {
    const error = errorOf(() => parseConfig({ WORKER_CONCURRENCY: 'abc' }));
    expect(error.message).toBe('Invalid configuration: WORKER_CONCURRENCY must be a positive integer (got "abc")');
    expect(error.issues).toEqual([{ variable: 'WORKER_CONCURRENCY', message: expect.any(String) }]);
  });

  it('rejects out-of-range and malformed values, listing all of them', () => {
    const error = errorOf(() =>
      parseConfig({ PORT: '70000', METRICS_PORT: '-1', WORKER_CONCURRENCY: '0', LOG_LEVEL: 'verbose', REDIS_URL: 'http://x' }),
    );
    expect(error.issues.map((i) => i.variable).sort()).toEqual(
      ['LOG_LEVEL', 'METRICS_PORT', 'PORT', 'REDIS_URL', 'WORKER_CONCURRENCY'].sort(),
    );
    for (const name of ['PORT', 'METRICS_PORT', 'WORKER_CONCURRENCY', 'LOG_LEVEL', 'REDIS_URL']) {
      expect(error.message).toContain(name);
    }
    expect(errorOf(() => parseConfig({ PORT: '3000.5' })).message).toContain('PORT');
    expect(errorOf(() => parseConfig({ DATABASE_URL: 'mysql://x/y' })).message).toContain('DATABASE_URL');
    expect(errorOf(() => parseConfig({ MAX_IN_FLIGHT_PER_WEBHOOK: '1e3' })).message).toContain(
      'MAX_IN_FLIGHT_PER_WEBHOOK',
    );
  });

  describe('Redis modes (v1.1)', () => {
    it('reads cluster seeds and sentinel lists', () => {
      const cluster = parseConfig({ REDIS_MODE: 'cluster', REDIS_URL: 'redis://a:7000, redis://b:7001,rediss://c:7002' });
      expect(cluster).toMatchObject({ redisMode: 'cluster', redisUrl: 'redis://a:7000, redis://b:7001,rediss://c:7002' });
      const sentinel = parseConfig({ REDIS_MODE: 'Sentinel', REDIS_URL: 'redis://s1:26379,redis://s2:26379', REDIS_SENTINEL_NAME: 'mymaster' });
      expect(sentinel).toMatchObject({ redisMode: 'sentinel', redisSentinelName: 'mymaster' });
    });

    it('refuses an unknown mode, a list in standalone mode and sentinel mode without a master name, naming each variable', () => {
      expect(errorOf(() => parseConfig({ REDIS_MODE: 'replica' })).issues).toEqual([
        { variable: 'REDIS_MODE', message: 'REDIS_MODE must be one of standalone, cluster, sentinel (got "replica")' },
      ]);
      expect(errorOf(() => parseConfig({ REDIS_URL: 'redis://a:1,redis://b:2' })).issues.map((i) => i.variable)).toEqual(['REDIS_URL']);
      expect(errorOf(() => parseConfig({ REDIS_MODE: 'cluster', REDIS_URL: 'redis://a:1,http://b:2' })).message).toMatch(/REDIS_URL must be/);
      expect(errorOf(() => parseConfig({ REDIS_MODE: 'sentinel' })).issues).toEqual([
        { variable: 'REDIS_SENTINEL_NAME', message: 'REDIS_SENTINEL_NAME must be set to the master name when REDIS_MODE is sentinel' },
      ]);
    });

    it('refuses a hash tag in QUEUE_PREFIX in cluster mode, and QUEUE_PARTITIONS outside 1..256', () => {
      expect(errorOf(() => parseConfig({ REDIS_MODE: 'cluster', QUEUE_PREFIX: '{hl}' })).issues.map((i) => i.variable)).toEqual(['QUEUE_PREFIX']);
      expect(parseConfig({ QUEUE_PREFIX: '{hl}' }).queuePrefix).toBe('{hl}');
      for (const bad of ['0', '257', '1.5', 'two']) {
        expect(errorOf(() => parseConfig({ QUEUE_PARTITIONS: bad })).issues.map((i) => i.variable)).toEqual(['QUEUE_PARTITIONS']);
      }
    });
  });
});
