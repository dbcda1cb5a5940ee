import { randomBytes } from 'node:crypto';
import { defineRedisScript, type ScriptClient } from '@hooklane/queue';

/**
 * Per-webhook admission, shared by every worker through Redis: at most `maxInFlight`
 * attempts of one webhook at a time (MAX_IN_FLIGHT_PER_WEBHOOK) and at most `rateLimit`
 * attempts started in any one-second window (the webhook's `rate_limit`).
 *
 * Keys, all under the queue prefix, per webhook:
 * - `inflight:<id>`  sorted set of slot tokens scored by expiry. A holder renews its slot
 *   while the attempt runs; a crashed worker's slot lapses after `slotTtlMs`.
 * - `rate:<id>`      sorted set of the attempts admitted in the last second (a sliding log:
 *   exact, unlike a fixed window that lets twice the rate through around its edge).
 * - `line:<id>`      the jobs waiting for admission, scored by a ticket number: first come,
 *   first served, so a waiting job cannot be overtaken forever by newer ones.
 * - `line-exp:<id>`  when each waiter's place lapses (a job that vanished must not hold the
 *   line); `ticket:<id>` the ticket counter.
 *
 * A job that is not admitted is told how long to wait. It is not polled: a waiter behind
 * the in-flight cap is woken by whoever frees a slot (the scripts return whom to wake), and
 * its own delay is only a fallback; a waiter behind the rate limit sleeps until the second
 * its place in line projects to. So a backlog costs about one check per waiter per slot,
 * not a check per waiter per tick.
 *
 * Time is Redis's (TIME), so workers with drifting clocks share one notion of "now".
 */

const COMMON = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxInFlight = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 500)
if #lapsed > 0 then
  redis.call('ZREM', KEYS[3], unpack(lapsed))
  redis.call('ZREM', KEYS[4], unpack(lapsed))
end
local inflightFree = maxInFlight - redis.call('ZCARD', KEYS[1])
local used = 0
local rateFree = inflightFree
if rate > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 1000)
  used = redis.call('ZCARD', KEYS[2])
  rateFree = rate - used
end
local free = math.min(inflightFree, rateFree)
`;

// KEYS: inflight, rate, line, line-exp, ticket
// ARGV: token, maxInFlight, rate (0 = none), jobId ('' = do not queue), slotTtlMs,
//       roundMs (longest one attempt may take), maxWaitMs, lineGraceMs, keyTtlMs
// -> {1} admitted | {0, waitMs, jobIdToWake...}
const ACQUIRE = `${COMMON}
local token, jobId = ARGV[1], ARGV[4]
local slotTtl, roundMs, maxWait, grace, keyTtl =
  tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])

local ahead = 0
if jobId ~= '' then
  ahead = redis.call('ZRANK', KEYS[3], jobId) or redis.call('ZCARD', KEYS[3])
end

if free > ahead then
  redis.call('ZADD', KEYS[1], now + slotTtl, token)
  redis.call('PEXPIRE', KEYS[1], slotTtl + keyTtl)
  if rate > 0 then
    redis.call('ZADD', KEYS[2], now, token)
    redis.call('PEXPIRE', KEYS[2], 2000)
  end
  if jobId ~= '' then
    redis.call('ZREM', KEYS[3], jobId)
    redis.call('ZREM', KEYS[4], jobId)
  end
  return {1}
end

local wait = 0
if rate > 0 and rateFree <= ahead then
  -- Behind the rate limit: the (ahead+1)-th slot to open, as the log projects it. Slot q
  -- opens when the q-th oldest admission leaves the window; beyond the log, a second later.
  -- (Should the in-flight cap be full by then, that check makes the waiter wait on it.)
  local q = used - rate + ahead
  local extra = 0
  if q >= used then
    local periods = math.floor((q - used) / rate) + 1
    extra = periods * 1000
    q = q - periods * rate
  end
  local opens = now
  if q >= 0 then
    opens = tonumber(redis.call('ZRANGE', KEYS[2], q, q, 'WITHSCORES')[2]) + 1000
  end
  wait = opens + extra - now
else
  -- Behind the in-flight cap: the attempts ahead finish within roundMs each, maxInFlight at
  -- a time, so this is an upper bound; a freed slot wakes the waiter long before, as a rule.
  wait = (math.floor((ahead - math.max(inflightFree, 0)) / maxInFlight) + 1) * roundMs
end
wait = math.max(1, math.min(wait, maxWait))

if jobId ~= '' then
  if not redis.call('ZSCORE', KEYS[3], jobId) then
    redis.call('ZADD', KEYS[3], redis.call('INCR', KEYS[5]), jobId)
  end
  redis.call('ZADD', KEYS[4], now + wait + grace, jobId)
  redis.call('PEXPIRE', KEYS[3], maxWait + grace + keyTtl)
  redis.call('PEXPIRE', KEYS[4], maxWait + grace + keyTtl)
  redis.call('PEXPIRE', KEYS[5], maxWait + grace + keyTtl)
end

-- Slots free right now but owed to waiters ahead that are asleep: wake them.
local reply = {0, wait}
if free > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, free - 1)) do
    if id ~= jobId then table.insert(reply, id) end
  end
end
return reply
`;

// KEYS: inflight, rate, line, line-exp. ARGV: token, maxInFlight, rate -> job ids to wake
const RELEASE = `
redis.call('ZREM', KEYS[1], ARGV[1])
${COMMON}
if free <= 0 then return {} end
return redis.call('ZRANGE', KEYS[3], 0, free - 1)
`;

// KEYS: inflight. ARGV: token, slotTtlMs, keyTtlMs
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local renewed = redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[3]))
return renewed
`;

const acquireScript = defineRedisScript(ACQUIRE);
const releaseScript = defineRedisScript(RELEASE);
const renewScript = defineRedisScript(RENEW);

/** Keys of an idle webhook outlive their last use by this much, then vanish. */
const KEY_TTL_MS = 60_000;

export interface GateRequest {
  webhookId: string;
  maxInFlight: number;
  /** Attempts per second; null for none. */
  rateLimit: number | null;
  /** The waiting job's id, which holds its place in line; null to check without queueing (test pings). */
  jobId: string | null;
  /** The longest one attempt of this webhook can take (its timeout plus recording). */
  attemptBoundMs: number;
}

export type GateAnswer = { admitted: true; slot: GateSlot } | { admitted: false; waitMs: number };

export interface GateSlot {
  /** Frees the slot (idempotent). */
  release(): Promise<void>;
}

export interface WebhookGate {
  acquire(request: GateRequest): Promise<GateAnswer>;
  /** Gives up a job's place in line (its delivery will not be attempted by it). */
  leaveLine(webhookId: string, jobId: string): Promise<void>;
}

export interface WebhookGateOptions {
  redis: ScriptClient;
  /**
   * Key prefix (the queue prefix), so installs sharing a Redis do not share limits; or, per
   * webhook, one that holds its partition's hash tag (Redis Cluster: a script's keys share a slot).
   */
  prefix: string | ((webhookId: string) => string);
  /** How long a slot outlives a holder that stopped renewing it (a crashed worker). */
  slotTtlMs: number;
  /** Longest a waiter sleeps before checking again on its own. */
  maxWaitMs?: number;
  /** How long a waiter's place is kept past its wake-up time, for a busy worker to pick it up. */
  lineGraceMs?: number;
  /** Wakes waiting jobs whose turn came (best effort). */
  wake(webhookId: string, jobIds: string[]): void;
  /** Told when renewing or releasing a slot failed; the slot then lapses on its own. */
  onError?(err: unknown): void;
}

export const DEFAULT_MAX_WAIT_MS = 30_000;
export const DEFAULT_LINE_GRACE_MS = 30_000;

export function createWebhookGate(options: WebhookGateOptions): WebhookGate {
  const { redis, prefix, slotTtlMs } = options;
  const maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  const lineGraceMs = options.lineGraceMs ?? DEFAULT_LINE_GRACE_MS;
  const prefixOf = typeof prefix === 'string' ? () => prefix : prefix;
  const keys = (webhookId: string) => [
    `${prefixOf(webhookId)}:inflight:${webhookId}`,
    `${prefixOf(webhookId)}:rate:${webhookId}`,
    `${prefixOf(webhookId)}:line:${webhookId}`,
    `${prefixOf(webhookId)}:line-exp:${webhookId}`,
    `${prefixOf(webhookId)}:ticket:${webhookId}`,
  ];
  const report = (err: unknown) => options.onError?.(err);

  function holdSlot(request: GateRequest, token: string): GateSlot {
    const [inflightKey] = keys(request.webhookId);
    // Renewed well before it lapses, so only a holder that is gone loses its slot.
    const renewal = setInterval(() => {
      renewScript.run(redis, [inflightKey!], [token, slotTtlMs, KEY_TTL_MS]).catch(report);
    }, Math.max(100, Math.floor(slotTtlMs / 3)));
    renewal.unref();
    let released: Promise<void> | undefined;
    return {
      release() {
        released ??= (async () => {
          clearInterval(renewal);
          try {
            const toWake = (await releaseScript.run(redis, keys(request.webhookId).slice(0, 4), [
              token,
              request.maxInFlight,
              request.rateLimit ?? 0,
            ])) as string[];
            if (toWake.length > 0) options.wake(request.webhookId, toWake);
          } catch (err) {
            report(err);
          }
        })();
        return released;
      },
    };
  }

  return {
    async acquire(request) {
      const token = randomBytes(9).toString('base64url');
      const reply = (await acquireScript.run(redis, keys(request.webhookId), [
        token,
        request.maxInFlight,
        request.rateLimit ?? 0,
        request.jobId ?? '',
        slotTtlMs,
        Math.max(1, request.attemptBoundMs),
        maxWaitMs,
        lineGraceMs,
        KEY_TTL_MS,
      ])) as Array<number | string>;
      if (reply[0] === 1) return { admitted: true, slot: holdSlot(request, token) };
      const toWake = reply.slice(2).map(String);
      if (toWake.length > 0) options.wake(request.webhookId, toWake);
      return { admitted: false, waitMs: Number(reply[1]) };
    },

    async leaveLine(webhookId, jobId) {
      const [, , line, lineExp] = keys(webhookId);
      await redis.multi().zrem(line!, jobId).zrem(lineExp!, jobId).exec();
    },
  };
}
