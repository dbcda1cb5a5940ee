import { withTimeout } from '@hooklane/core';
import type { Db } from '@hooklane/db';
import type { RedisClient } from '@hooklane/queue';
import type { Logger } from 'pino';

/**
 * Team keys looked up in the last 30 s: a PostgreSQL round trip per request was the largest
 * single cost of ingest. Only keys that exist are kept (a key created a moment ago works at
 * once). Revocation must reach every API process within a second, so:
 * - the revoking process bumps a revocation stamp in Redis and publishes on a channel; every
 *   process empties its cache when the message arrives (milliseconds);
 * - every process also reads the stamp every `STAMP_POLL_MS` and empties its cache when it
 *   changed, so a missed message costs at most that long;
 * - a cached answer is used only while the last successful stamp read is younger than
 *   `TRUST_MS`; without Redis, every request asks PostgreSQL, which is always right.
 * So a revoked key is refused everywhere within `TRUST_MS` of the revoking request's answer.
 */
export const API_KEY_CACHE_MS = 30_000;
export const STAMP_POLL_MS = 250;
export const TRUST_MS = 900;
const API_KEY_CACHE_MAX = 10_000;
const STAMP_READ_TIMEOUT_MS = 500;

export interface CachedKey {
  teamId: number;
  revoked: boolean;
  expiresAt: number;
}

export interface ApiKeyCacheDeps {
  db: Db;
  /** Commands (stamp reads and bumps, publish). */
  redis: RedisClient;
  /** A connection of its own: a subscribed ioredis connection takes no other commands. */
  subscriber: RedisClient;
  /** Keys and channel live under this prefix (the queue prefix), so test runs do not meet. */
  prefix: string;
  logger: Logger;
}

export class ApiKeyCache {
  private readonly entries = new Map<string, CachedKey>();
  /** Bumped by every revocation, so a lookup that started before one does not store its answer. */
  private generation = 0;
  private stamp: string | null | undefined;
  private stampReadAt = 0;
  private poller: NodeJS.Timeout | undefined;
  private readonly stampKey: string;
  private readonly channel: string;

  constructor(private readonly deps: ApiKeyCacheDeps) {
    this.stampKey = `${deps.prefix}:api-keys:revocations`;
    this.channel = `${deps.prefix}:api-keys:revoked`;
  }

  /**
   * Starts the stamp poll, then subscribes (which waits for Redis, however long; the poll
   * keeps the cache honest meanwhile). `close` stops the poll.
   */
  async start(): Promise<void> {
    await this.readStamp();
    this.poller = setInterval(() => void this.readStamp(), STAMP_POLL_MS);
    this.poller.unref();
    this.deps.subscriber.on('message', (channel: string) => {
      if (channel === this.channel) this.forget();
    });
    await this.deps.subscriber.subscribe(this.channel);
  }

  close(): void {
    clearInterval(this.poller);
  }

  async lookUp(keyHash: string, load: (keyHash: string) => Promise<Omit<CachedKey, 'expiresAt'> | null>): Promise<CachedKey | null> {
    const cached = this.entries.get(keyHash);
    const trusted = Date.now() - this.stampReadAt < TRUST_MS;
    if (cached && trusted && cached.expiresAt > Date.now()) return cached;
    const generation = this.generation;
    const found = await load(keyHash);
    if (!found) {
      this.entries.delete(keyHash);
      return null;
    }
    const entry: CachedKey = { ...found, expiresAt: Date.now() + API_KEY_CACHE_MS };
    if (this.generation === generation) {
      if (this.entries.size >= API_KEY_CACHE_MAX) this.entries.clear();
      this.entries.set(keyHash, entry);
    }
    return entry;
  }

  /** Revokes keys by id (those already revoked are left as they were); returns how many were revoked. */
  async revokeKeys(ids: readonly string[]): Promise<number> {
    const { count } = await this.deps.db.apiKey.updateMany({
      where: { id: { in: [...ids] }, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    if (count > 0) await this.announceRevocation();
    return count;
  }

  /** Revokes every live key of a team (a team erasure calls this before removing its rows); returns their ids. */
  async revokeTeam(teamId: number): Promise<string[]> {
    const revoked = await this.deps.db.apiKey.updateManyAndReturn({
      where: { teamId, revokedAt: null },
      data: { revokedAt: new Date() },
      select: { id: true },
    });
    await this.announceRevocation();
    return revoked.map((key) => key.id);
  }

  /**
   * Tells every process (this one at once). If Redis cannot be told, the other processes'
   * stamp reads fail too unless only this process lost Redis; that case is logged.
   */
  async announceRevocation(): Promise<void> {
    this.forget();
    try {
      await this.deps.redis.incr(this.stampKey);
      await this.deps.redis.publish(this.channel, 'revoked');
    } catch (err) {
      this.deps.logger.error({ err: { message: (err as Error).message } }, 'could not announce a key revocation to other API processes');
    }
  }

  private forget(): void {
    this.entries.clear();
    this.generation += 1;
  }

  private async readStamp(): Promise<void> {
    const startedAt = Date.now();
    try {
      const stamp = await withTimeout(this.deps.redis.get(this.stampKey), STAMP_READ_TIMEOUT_MS, 'revocation stamp read');
      if (this.stamp !== undefined && stamp !== this.stamp) this.forget();
      this.stamp = stamp;
      // Trust runs from when the read was sent: a revocation after that instant is not covered.
      this.stampReadAt = startedAt;
    } catch {
      // Not trusted until a read succeeds again: lookups go to PostgreSQL meanwhile.
    }
  }
}
