import { z } from 'zod';

/**
 * Process configuration from the environment. The caller passes `process.env` in, so
 * this module stays free of I/O and tests can hand it any table.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  databaseUrl: string;
  redisUrl: string;
  port: number;
  workerConcurrency: number;
  metricsPort: number;
  adminToken: string | undefined;
  allowPrivateTargets: boolean;
  queuePrefix: string;
  maxInFlightPerWebhook: number;
  logLevel: LogLevel;
  shutdownGraceMs: number;
  sweeperIntervalMs: number;
  autoDisableAfterMs: number;
  dbTimeoutMs: number;
  /** PostgreSQL connections per process; sum them across replicas against `max_connections`. */
  dbPoolSize: number;
  host: string;
  /** Webhooks one team may have (not deleted); fan-out amplification is bounded by it. */
  maxWebhooksPerTeam: number;
  /** Where `/metrics` listens; unset: the worker binds HOST, the API serves it on its own port. */
  metricsHost: string | undefined;
  /** Bearer token `/metrics` requires; unset: open, as in v1. */
  metricsToken: string | undefined;
  /** Signs portal session tokens; undefined means "derive one from the admin token". */
  portalSecret: string | undefined;
  /** CSP `frame-ancestors` of the dashboard at /portal. */
  portalFrameAncestors: string;
  /** Where the built dashboard lives; undefined means next to the API (apps/dashboard/dist). */
  portalAssetsDir: string | undefined;
  /** Events (with their deliveries and attempts) older than this many days are dropped; 0 keeps everything. */
  retentionDays: number;
  /** How often each worker tries the retention task (one worker at a time runs it). */
  retentionIntervalMs: number;
  /** How REDIS_URL is read: one server, cluster seed nodes, or sentinels (v1.1). */
  redisMode: RedisMode;
  /** The master name Sentinel watches; set exactly when redisMode is 'sentinel'. */
  redisSentinelName: string | undefined;
  /** Number of delivery queues, each under its own cluster hash tag (v1.1). */
  queuePartitions: number;
}

export const REDIS_MODES = ['standalone', 'cluster', 'sentinel'] as const;
export type RedisMode = (typeof REDIS_MODES)[number];
/** Upper bound on QUEUE_PARTITIONS: every worker runs a consumer per partition. */
export const MAX_QUEUE_PARTITIONS = 256;

export interface ConfigIssue {
  variable: string;
  message: string;
}

export class ConfigError extends Error {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    super(`Invalid configuration: ${issues.map((issue) => issue.message).join('; ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export const CONFIG_DEFAULTS = {
  DATABASE_URL: 'postgresql://postgres:postgres@127.0.0.1:5432/hooklane',
  REDIS_URL: 'redis://127.0.0.1:6379',
  PORT: '3000',
  WORKER_CONCURRENCY: '50',
  METRICS_PORT: '9464',
  ALLOW_PRIVATE_TARGETS: 'false',
  QUEUE_PREFIX: 'hooklane',
  MAX_IN_FLIGHT_PER_WEBHOOK: '10',
  LOG_LEVEL: 'info',
  SHUTDOWN_GRACE_MS: '30000',
  SWEEPER_INTERVAL_MS: '5000',
  AUTO_DISABLE_AFTER_MS: '86400000',
  DB_TIMEOUT_MS: '3000',
  DB_POOL_SIZE: '10',
  HOST: '0.0.0.0',
  MAX_WEBHOOKS_PER_TEAM: '1000',
  PORTAL_FRAME_ANCESTORS: "'self'",
  RETENTION_DAYS: '30',
  RETENTION_INTERVAL_MS: '3600000',
  REDIS_MODE: 'standalone',
  QUEUE_PARTITIONS: '1',
} as const;

// Each variable carries its rule in words, so an error reads as a sentence an operator can act on.
interface Rule<T> {
  rule: string;
  schema: z.ZodType<T, string>;
}

function integer(min: number, max: number, rule: string): Rule<number> {
  return {
    rule,
    schema: z
      .string()
      .regex(/^\d+$/)
      .transform(Number)
      .pipe(z.number().int().min(min).max(max)),
  };
}

function url(protocols: readonly string[], rule: string): Rule<string> {
  return {
    rule,
    schema: z.string().refine((value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }),
  };
}

function urlList(protocols: readonly string[], rule: string): Rule<string> {
  const one = url(protocols, rule).schema;
  return {
    rule,
    schema: z.string().refine((value) => value.split(',').every((part) => one.safeParse(part.trim()).success)),
  };
}

const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
  yes: true,
  no: false,
};

const booleanRule: Rule<boolean> = {
  rule: 'be one of true, false, 1, 0, yes, no',
  schema: z
    .string()
    .transform((value) => value.toLowerCase())
    .refine((value) => Object.hasOwn(BOOLEAN_WORDS, value))
    .transform((value) => BOOLEAN_WORDS[value] === true),
};

const nonBlank: Rule<string> = { rule: 'be a non-empty string without spaces', schema: z.string().regex(/^\S+$/) };

const MAX_PORT = 65_535;
const MAX_MS = 2_147_483_647; // the largest delay setTimeout honours

const rules = {
  DATABASE_URL: url(['postgres:', 'postgresql:'], 'be a postgres:// or postgresql:// URL'),
  REDIS_URL: urlList(['redis:', 'rediss:'], 'be a redis:// or rediss:// URL (a comma-separated list of them in cluster and sentinel mode)'),
  PORT: integer(1, MAX_PORT, `be a port number from 1 to ${MAX_PORT}`),
  WORKER_CONCURRENCY: integer(1, Number.MAX_SAFE_INTEGER, 'be a positive integer'),
  METRICS_PORT: integer(0, MAX_PORT, `be a port number from 0 to ${MAX_PORT} (0 = any free port)`),
  ADMIN_TOKEN: { rule: 'be a non-empty string', schema: z.string().min(1) },
  ALLOW_PRIVATE_TARGETS: booleanRule,
  QUEUE_PREFIX: nonBlank,
  MAX_IN_FLIGHT_PER_WEBHOOK: integer(1, Number.MAX_SAFE_INTEGER, 'be a positive integer'),
  LOG_LEVEL: {
    rule: `be one of ${LOG_LEVELS.join(', ')}`,
    schema: z
      .string()
      .transform((value) => value.toLowerCase())
      .pipe(z.enum(LOG_LEVELS)),
  },
  SHUTDOWN_GRACE_MS: integer(0, MAX_MS, `be an integer of milliseconds from 0 to ${MAX_MS}`),
  SWEEPER_INTERVAL_MS: integer(1, MAX_MS, `be an integer of milliseconds from 1 to ${MAX_MS}`),
  AUTO_DISABLE_AFTER_MS: integer(1, Number.MAX_SAFE_INTEGER, 'be a positive integer of milliseconds'),
  DB_TIMEOUT_MS: integer(1, MAX_MS, `be an integer of milliseconds from 1 to ${MAX_MS}`),
  DB_POOL_SIZE: integer(1, 1000, 'be an integer from 1 to 1000'),
  HOST: nonBlank,
  MAX_WEBHOOKS_PER_TEAM: integer(1, 2_147_483_647, 'be a positive integer'),
  METRICS_HOST: nonBlank,
  METRICS_TOKEN: { rule: 'be a non-empty string', schema: z.string().min(1) },
  PORTAL_SECRET: { rule: 'be at least 16 characters', schema: z.string().min(16) },
  PORTAL_FRAME_ANCESTORS: {
    rule: "be a CSP source list such as 'self' https://app.example.com (no ; or ,)",
    schema: z.string().regex(/^[^;,\r\n]+$/),
  },
  PORTAL_ASSETS_DIR: { rule: 'be a directory path', schema: z.string().min(1) },
  RETENTION_DAYS: integer(0, 36_500, 'be a whole number of days from 0 (keep everything) to 36500'),
  RETENTION_INTERVAL_MS: integer(1000, MAX_MS, `be an integer of milliseconds from 1000 to ${MAX_MS}`),
  REDIS_MODE: {
    rule: `be one of ${REDIS_MODES.join(', ')}`,
    schema: z
      .string()
      .transform((value) => value.toLowerCase())
      .pipe(z.enum(REDIS_MODES)),
  },
  REDIS_SENTINEL_NAME: nonBlank,
  QUEUE_PARTITIONS: integer(1, MAX_QUEUE_PARTITIONS, `be an integer from 1 to ${MAX_QUEUE_PARTITIONS}`),
} satisfies Record<string, Rule<unknown>>;

type Variable = keyof typeof rules;

const SECRET_VARIABLES: ReadonlySet<string> = new Set(['ADMIN_TOKEN', 'METRICS_TOKEN', 'PORTAL_SECRET']);

/** Blank means unset, so `FOO=` in a .env file falls back to the default. */
function readRaw(env: Record<string, string | undefined>, name: Variable): string | undefined {
  const value = env[name]?.trim();
  if (value === undefined || value === '') {
    return name in CONFIG_DEFAULTS ? CONFIG_DEFAULTS[name as keyof typeof CONFIG_DEFAULTS] : undefined;
  }
  return value;
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  const issues: ConfigIssue[] = [];
  const parsed: Partial<Record<Variable, unknown>> = {};

  for (const name of Object.keys(rules) as Variable[]) {
    const raw = readRaw(env, name);
    if (raw === undefined) continue;
    const { rule, schema } = rules[name] as Rule<unknown>;
    const result = schema.safeParse(raw);
    if (result.success) {
      parsed[name] = result.data;
    } else {
      // Never echo a secret back into logs.
      const shown = SECRET_VARIABLES.has(name) ? '' : ` (got ${JSON.stringify(raw)})`;
      issues.push({ variable: name, message: `${name} must ${rule}${shown}` });
    }
  }
  issues.push(...redisModeIssues(parsed));
  if (issues.length > 0) throw new ConfigError(issues);

  const p = parsed as { [K in Variable]: (typeof rules)[K] extends Rule<infer T> ? T : never };
  return {
    databaseUrl: p.DATABASE_URL,
    redisUrl: p.REDIS_URL,
    port: p.PORT,
    workerConcurrency: p.WORKER_CONCURRENCY,
    metricsPort: p.METRICS_PORT,
    adminToken: parsed.ADMIN_TOKEN as string | undefined, // the one variable without a default
    allowPrivateTargets: p.ALLOW_PRIVATE_TARGETS,
    queuePrefix: p.QUEUE_PREFIX,
    maxInFlightPerWebhook: p.MAX_IN_FLIGHT_PER_WEBHOOK,
    logLevel: p.LOG_LEVEL,
    shutdownGraceMs: p.SHUTDOWN_GRACE_MS,
    sweeperIntervalMs: p.SWEEPER_INTERVAL_MS,
    autoDisableAfterMs: p.AUTO_DISABLE_AFTER_MS,
    dbTimeoutMs: p.DB_TIMEOUT_MS,
    dbPoolSize: p.DB_POOL_SIZE,
    host: p.HOST,
    maxWebhooksPerTeam: p.MAX_WEBHOOKS_PER_TEAM,
    retentionDays: p.RETENTION_DAYS,
    retentionIntervalMs: p.RETENTION_INTERVAL_MS,
    // The variables without a default.
    metricsHost: parsed.METRICS_HOST as string | undefined,
    metricsToken: parsed.METRICS_TOKEN as string | undefined,
    portalSecret: parsed.PORTAL_SECRET as string | undefined,
    portalFrameAncestors: p.PORTAL_FRAME_ANCESTORS,
    portalAssetsDir: parsed.PORTAL_ASSETS_DIR as string | undefined,
    redisMode: p.REDIS_MODE,
    redisSentinelName: parsed.REDIS_SENTINEL_NAME as string | undefined,
    queuePartitions: p.QUEUE_PARTITIONS,
  };
}

/** The rules that tie REDIS_URL, REDIS_MODE, REDIS_SENTINEL_NAME and QUEUE_PREFIX together. */
function redisModeIssues(parsed: Partial<Record<Variable, unknown>>): ConfigIssue[] {
  const mode = parsed.REDIS_MODE as RedisMode | undefined;
  const urls = typeof parsed.REDIS_URL === 'string' ? parsed.REDIS_URL.split(',') : [];
  const issues: ConfigIssue[] = [];
  if (mode === 'standalone' && urls.length > 1) {
    issues.push({ variable: 'REDIS_URL', message: 'REDIS_URL must be a single URL when REDIS_MODE is standalone (a list needs REDIS_MODE=cluster or sentinel)' });
  }
  if (mode === 'sentinel' && parsed.REDIS_SENTINEL_NAME === undefined) {
    issues.push({ variable: 'REDIS_SENTINEL_NAME', message: 'REDIS_SENTINEL_NAME must be set to the master name when REDIS_MODE is sentinel' });
  }
  // A hash tag in the prefix would pin every partition to one slot, undoing the partitioning.
  if (mode === 'cluster' && typeof parsed.QUEUE_PREFIX === 'string' && /[{}]/.test(parsed.QUEUE_PREFIX)) {
    issues.push({ variable: 'QUEUE_PREFIX', message: 'QUEUE_PREFIX must not contain { or } when REDIS_MODE is cluster: Hooklane adds the hash tags itself' });
  }
  return issues;
}
