import { createHash } from 'node:crypto';
import type { Redis, Cluster } from 'ioredis';

export type ScriptClient = Redis | Cluster;

export interface RedisScript {
  /** Runs the script by its SHA1, loading it first when Redis does not know it (e.g. after a restart). */
  run(client: ScriptClient, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown>;
}

/**
 * A Lua script run with EVALSHA, so only its hash travels on every call. A Redis that was
 * restarted or flushed its script cache answers NOSCRIPT, and the script is then sent whole
 * once (EVAL loads it for the calls that follow).
 */
export function defineRedisScript(lua: string): RedisScript {
  const sha = createHash('sha1').update(lua).digest('hex');
  return {
    async run(client, keys, args) {
      try {
        return await client.evalsha(sha, keys.length, ...keys, ...args);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
        return client.eval(lua, keys.length, ...keys, ...args);
      }
    },
  };
}
