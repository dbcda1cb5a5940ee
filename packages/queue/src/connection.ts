import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

export type RedisRole = 'producer' | 'worker';
export type RedisMode = 'standalone' | 'cluster' | 'sentinel';
/** What a Redis connection is in any mode; BullMQ and the gate's scripts accept both. */
export type RedisClient = Redis | Cluster;

/** REDIS_MODE, REDIS_URL and REDIS_SENTINEL_NAME as core's parseConfig returns them (a Config fits). */
export interface RedisSettings {
  redisMode: RedisMode;
  /** One URL (standalone), or comma-separated seed nodes (cluster) or sentinels (sentinel). */
  redisUrl: string;
  redisSentinelName?: string | undefined;
}

/**
 * Workers must wait for Redis forever (BullMQ requires maxRetriesPerRequest: null);
 * producers inside an HTTP request must fail fast so the API can answer instead of hanging.
 */
function roleOptions(role: RedisRole): RedisOptions {
  return role === 'worker'
    ? { maxRetriesPerRequest: null, enableReadyCheck: true }
    : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, commandTimeout: 2000 };
}

export function createRedisConnection(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  return new Redis(url, { ...roleOptions(role), ...extra });
}

interface Endpoint {
  host: string;
  port: number;
  username?: string;
  password?: string;
  tls: boolean;
}

function endpoints(list: string, defaultPort: number): Endpoint[] {
  return list.split(',').map((raw) => {
    const url = new URL(raw.trim());
    return {
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port ? Number(url.port) : defaultPort,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      tls: url.protocol === 'rediss:',
    };
  });
}

function credentials(first: Endpoint | undefined): RedisOptions {
  return {
    ...(first?.username ? { username: first.username } : {}),
    ...(first?.password ? { password: first.password } : {}),
    ...(first?.tls ? { tls: {} } : {}),
  };
}

/**
 * A Redis Cluster client from seed nodes; it discovers the other masters itself. Every node
 * gets the role's options, and the cluster-level offline queue follows the role too (a
 * producer must not queue commands while the cluster is down). With TLS the nodes announce
 * IP addresses the certificates do not name, so host names are kept as given (dnsLookup).
 */
function createCluster(url: string, role: RedisRole, extra: RedisOptions): Cluster {
  const seeds = endpoints(url, 6379);
  const { enableOfflineQueue, ...nodeOptions } = { ...roleOptions(role), ...extra };
  const options: ClusterOptions = {
    redisOptions: { ...nodeOptions, ...credentials(seeds[0]) },
    enableOfflineQueue: enableOfflineQueue ?? true,
    enableReadyCheck: true,
    // Slots move during a failover or resharding; follow the MOVED answers quickly.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    slotsRefreshTimeout: 2000,
    ...(seeds[0]?.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
  };
  return new Cluster(seeds.map(({ host, port }) => ({ host, port })), options);
}

/**
 * A client of the master Sentinel names. On a failover ioredis asks the sentinels again and
 * reconnects to the new master; failoverDetector makes it listen for +switch-master so it
 * moves at once rather than on its next failed command. URL credentials serve both the
 * sentinels and the data nodes.
 */
function createSentinelClient(url: string, name: string, role: RedisRole, extra: RedisOptions): Redis {
  const sentinels = endpoints(url, 26379);
  const auth = credentials(sentinels[0]);
  return new Redis({
    sentinels: sentinels.map(({ host, port }) => ({ host, port })),
    name,
    failoverDetector: true,
    ...auth,
    ...(auth.password ? { sentinelPassword: auth.password } : {}),
    ...(auth.username ? { sentinelUsername: auth.username } : {}),
    ...(auth.tls ? { sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
    ...roleOptions(role),
    ...extra,
  });
}

/** The connection for REDIS_MODE: standalone exactly as createRedisConnection, or a cluster, or via sentinels. */
export function connectRedis(settings: RedisSettings, role: RedisRole, extra: RedisOptions = {}): RedisClient {
  switch (settings.redisMode) {
    case 'standalone':
      return createRedisConnection(settings.redisUrl, role, extra);
    case 'cluster':
      return createCluster(settings.redisUrl, role, extra);
    case 'sentinel':
      if (!settings.redisSentinelName) throw new Error('sentinel mode needs the master name (REDIS_SENTINEL_NAME)');
      return createSentinelClient(settings.redisUrl, settings.redisSentinelName, role, extra);
  }
}

/** True for a connection to any mode (a Redis or a Cluster), false for plain connection options. */
export function isRedisClient(value: unknown): value is RedisClient {
  return value instanceof Redis || value instanceof Cluster;
}
