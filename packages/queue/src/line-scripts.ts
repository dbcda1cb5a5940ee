import type { RedisClient } from './connection.js';

/**
 * The Lua side of the per-webhook delivery lines, registered on an ioredis client with
 * `defineCommand` (EVALSHA, reloaded by ioredis after a Redis restart). Each call is one
 * round trip and a handful of O(1)/O(log n) commands: nothing here scans a line.
 *
 * Webhook scripts take KEYS line, slots, known, due, settling and ARGV webhookId, leaseMs, cap first.
 * Time is Redis's (TIME), so workers with drifting clocks agree on lease expiry.
 */

const PRELUDE = `
local line, slots, known, due, settling = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local webhookId, leaseMs, cap = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- Leases nobody renewed (a killed worker): back to the head of the line, oldest first.
local function reclaimFrom(set)
  local lapsed = redis.call('ZRANGEBYSCORE', set, '-inf', now, 'LIMIT', 0, 100)
  if #lapsed == 0 then return end
  redis.call('ZREM', set, unpack(lapsed))
  local reversed = {}
  for i = #lapsed, 1, -1 do reversed[#reversed + 1] = lapsed[i] end
  redis.call('LPUSH', line, unpack(reversed))
end

local function reclaim()
  reclaimFrom(settling)
  reclaimFrom(slots)
end

-- Free slots go to the head of the line; each granted entry holds a lease.
local function grant()
  local free = cap - redis.call('ZCARD', slots)
  if free <= 0 then return {} end
  local popped = redis.call('LPOP', line, free)
  if not popped then return {} end
  local args = {}
  for _, e in ipairs(popped) do
    args[#args + 1] = now + leaseMs
    args[#args + 1] = e
  end
  redis.call('ZADD', slots, unpack(args))
  redis.call('ZADD', due, 'LT', now + leaseMs, webhookId)
  return popped
end
`;

/** KEYS +capKey (6th); ARGV +entries... → entries granted a slot (to be queued as leased jobs). New entries join the tail; known ones are skipped. */
const ADMIT = `${PRELUDE}
local published = redis.call('GET', KEYS[6])
if published then cap = tonumber(published) end
local entries = {}
for i = 4, #ARGV do entries[#entries + 1] = ARGV[i] end
local seen = redis.call('SMISMEMBER', known, unpack(entries))
local fresh = {}
for i, e in ipairs(entries) do
  if seen[i] == 0 then fresh[#fresh + 1] = e end
end
if #fresh > 0 then
  redis.call('SADD', known, unpack(fresh))
  redis.call('RPUSH', line, unpack(fresh))
end
reclaim()
return grant()
`;

/**
 * ARGV +entry, leased ('1' when the job was granted its slot) → {1} go | {0, granted...}.
 * A job whose entry holds a slot goes. A leased job whose lease lapsed meanwhile is dropped:
 * its entry is back in the line. Any other job goes at once only when nobody waits and a slot
 * is free; otherwise it joins the tail of the line (FIFO) and its BullMQ job ends.
 */
const START = `${PRELUDE}
local entry, leased = ARGV[4], ARGV[5] == '1'
reclaim()
if redis.call('ZSCORE', slots, entry) then
  -- Held: granted to this job, or granted while an older job for the same attempt still
  -- waited in BullMQ (a re-queue deduplicated by job id). Either way this job runs it.
  redis.call('ZADD', slots, now + leaseMs, entry)
  return {1}
end
-- Sent already, its record being written: nothing to run (this job is a late duplicate).
if leased or redis.call('ZSCORE', settling, entry) then return {0} end
if redis.call('LLEN', line) == 0 and redis.call('ZCARD', slots) < cap then
  redis.call('ZADD', slots, now + leaseMs, entry)
  redis.call('SADD', known, entry)
  redis.call('ZADD', due, 'LT', now + leaseMs, webhookId)
  return {1}
end
if redis.call('SADD', known, entry) == 1 then redis.call('RPUSH', line, entry) end
local reply = grant()
table.insert(reply, 1, 0)
return reply
`;

/**
 * ARGV +entry, mode, backoffMs, then... mode 'done': the entry leaves Redis, the `then`
 * entries (the next deliveries of fifo lines this one held, woken by its end) join the tail
 * of the line unless Redis holds them already, and the freed slot goes to the head of the
 * line (returned: the caller runs the first itself, a handoff, and queues the rest). So a
 * lone fifo line goes on in the same worker without a trip through the queue. An entry that
 * was settling (its slot went on when its exchange ended) just leaves. mode 'back': the entry
 * returns to the head of the line (a database outage) and the line is looked at again after
 * backoffMs; nothing is granted now.
 */
const RELEASE = `${PRELUDE}
local entry, mode = ARGV[4], ARGV[5]
local wasSettling = redis.call('ZREM', settling, entry)
if mode == 'done' and wasSettling == 1 then
  redis.call('SREM', known, entry)
  return grant()
end
reclaim()
local removed = redis.call('ZREM', slots, entry) + wasSettling
if mode == 'back' then
  if removed >= 1 then redis.call('LPUSH', line, entry) end
  redis.call('ZADD', due, now + tonumber(ARGV[6]), webhookId)
  return {}
end
redis.call('SREM', known, entry)
for i = 7, #ARGV do
  if redis.call('SADD', known, ARGV[i]) == 1 then redis.call('RPUSH', line, ARGV[i]) end
end
return grant()
`;

/**
 * ARGV +entry: the attempt's HTTP exchange has ended, its record is still to be written. The
 * slot goes to the head of the line now (returned, as by RELEASE) and the entry waits in
 * `settling` under a fresh lease until RELEASE 'done' after the write: the cap counts
 * exchanges in flight, and an entry never leaves Redis before PostgreSQL has its outcome,
 * so the sweeper cannot take it for lost and a killed worker's entry comes back.
 */
const SETTLE = `${PRELUDE}
local entry = ARGV[4]
-- No reclaim here (it runs once per delivery in a handoff run): the reaper's pass and every
-- other script still give lapsed leases back, within the reaper's 1 s tick.
if redis.call('ZREM', slots, entry) == 1 then
  redis.call('ZADD', settling, now + leaseMs, entry)
  redis.call('ZADD', due, 'LT', now + leaseMs, webhookId)
end
return grant()
`;

/** ARGV +entry: renews a lease that is still held (in flight or settling) → 1, or 0 when it lapsed. */
const RENEW = `${PRELUDE}
for _, set in ipairs({slots, settling}) do
  if redis.call('ZSCORE', set, ARGV[4]) then
    redis.call('ZADD', set, now + leaseMs, ARGV[4])
    return 1
  end
end
return 0
`;

/** The reaper's look at a webhook that is due: reclaim, grant, and when to look again. */
const PUMP = `${PRELUDE}
reclaim()
local granted = grant()
local earliest = nil
for _, set in ipairs({slots, settling}) do
  local first = redis.call('ZRANGE', set, 0, 0, 'WITHSCORES')
  if first[2] and (earliest == nil or tonumber(first[2]) < earliest) then earliest = tonumber(first[2]) end
end
if earliest then
  redis.call('ZADD', due, earliest, webhookId)
else
  redis.call('ZREM', due, webhookId)
end
return granted
`;

/**
 * KEYS rate; ARGV entry, rate, windowMs, confirm → ms to wait before starting (0: start now).
 * Reserves the earliest start that keeps at most `rate` starts in any window, so waiters
 * never poll or race. With confirm '1' (after sleeping until the reserved time, which a busy
 * event loop may overshoot) the entry's reservation moves to the actual start, checked against
 * the starts already made: a late start pushes the next ones back a little, never to the end.
 */
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local entry, rate, window = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if ARGV[4] == '1' then
  redis.call('ZREM', KEYS[1], entry)
  local past = redis.call('ZREVRANGEBYSCORE', KEYS[1], now, '-inf', 'WITHSCORES', 'LIMIT', 0, rate)
  local at = now
  if #past / 2 >= rate then at = math.max(now, tonumber(past[#past]) + window) end
  redis.call('ZADD', KEYS[1], at, entry)
  redis.call('PEXPIRE', KEYS[1], at - now + window + 1000)
  return at - now
end
local at = now
local n = redis.call('ZCARD', KEYS[1])
if n > 0 then
  at = math.max(at, tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2]))
  if n >= rate then
    at = math.max(at, tonumber(redis.call('ZRANGE', KEYS[1], -rate, -rate, 'WITHSCORES')[2]) + window)
  end
end
redis.call('ZADD', KEYS[1], at, entry)
redis.call('PEXPIRE', KEYS[1], at - now + window + 1000)
return at - now
`;

const COMMANDS = {
  hooklaneLineAdmit: { numberOfKeys: 6, lua: ADMIT },
  hooklaneLineStart: { numberOfKeys: 5, lua: START },
  hooklaneLineRelease: { numberOfKeys: 5, lua: RELEASE },
  hooklaneLineSettle: { numberOfKeys: 5, lua: SETTLE },
  hooklaneLineRenew: { numberOfKeys: 5, lua: RENEW },
  hooklaneLinePump: { numberOfKeys: 5, lua: PUMP },
  hooklaneRateReserve: { numberOfKeys: 1, lua: RESERVE },
} as const;

export type LineCommandName = keyof typeof COMMANDS;
type Call = (...keysAndArgs: Array<string | number>) => Promise<unknown>;
/** Either mode's client: in cluster mode every script's keys share one slot (the partition's hash tag). */
export type LineClient = RedisClient & Record<LineCommandName, Call>;

/** Registers the line scripts on a client (once; later calls find them there). */
export function withLineCommands(client: RedisClient): LineClient {
  const target = client as RedisClient & Partial<Record<LineCommandName, Call>>;
  for (const [name, definition] of Object.entries(COMMANDS)) {
    if (typeof target[name as LineCommandName] !== 'function') client.defineCommand(name, definition);
  }
  return client as LineClient;
}
