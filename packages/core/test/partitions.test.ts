import { describe, it, expect } from '@jest/globals';
import { CLUSTER_SLOTS, crc16, keySlot, partitionHashTag, partitionSlotRange, webhookPartition } from '../src/index.js';

// Slots as `CLUSTER KEYSLOT` answers them (Redis docs and a Redis 7 cluster); test/cluster/partitions.test.ts
// checks many more against a real cluster.
describe('keySlot', () => {
  it('is CRC16-XMODEM mod 16384', () => {
    expect(crc16(new TextEncoder().encode('123456789'))).toBe(0x31c3); // the XMODEM check value
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('bar')).toBe(5061);
    expect(keySlot('hello')).toBe(866);
  });

  it('hashes only the first non-empty hash tag', () => {
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(keySlot('a:{user1000}:b{other}')).toBe(keySlot('user1000'));
    expect(keySlot('foo{}{bar}')).not.toBe(keySlot('bar'));
    expect(keySlot('foo{{bar}}zap')).toBe(keySlot('{bar'));
  });
});

describe('partitions', () => {
  it('splits the slots into N equal ranges that cover every slot once', () => {
    for (const n of [1, 2, 3, 7, 16, 256]) {
      let next = 0;
      for (let p = 0; p < n; p++) {
        const { start, end } = partitionSlotRange(p, n);
        expect(start).toBe(next);
        expect(end - start).toBeGreaterThanOrEqual(Math.floor(CLUSTER_SLOTS / n));
        next = end;
      }
      expect(next).toBe(CLUSTER_SLOTS);
    }
  });

  it('gives partition p a distinct hash tag whose slot lies in the p-th range', () => {
    for (const n of [1, 2, 3, 5, 6, 64, 256]) {
      const tags = new Set<string>();
      for (let p = 0; p < n; p++) {
        const tag = partitionHashTag(p, n);
        const { start, end } = partitionSlotRange(p, n);
        expect(keySlot(`hooklane:deliveries-{${tag}}:wait`)).toBeGreaterThanOrEqual(start);
        expect(keySlot(`hooklane:deliveries-{${tag}}:wait`)).toBeLessThan(end);
        tags.add(tag);
      }
      expect(tags.size).toBe(n);
    }
  });

  it('keeps the 3-partition tags off the range edges where redis-cli and equal ranges may disagree by a slot', () => {
    // redis-cli --cluster create gives 3 masters 0-5460, 5461-10922, 10923-16383.
    const masterOf = (slot: number) => (slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2);
    expect([0, 1, 2].map((p) => masterOf(keySlot(partitionHashTag(p, 3))))).toEqual([0, 1, 2]);
  });

  it('rejects a partition outside 0..N-1', () => {
    expect(() => partitionSlotRange(3, 3)).toThrow(RangeError);
    expect(() => partitionSlotRange(0, 0)).toThrow(RangeError);
  });

  it('maps a webhook to the same partition every time, and spreads many webhooks evenly', () => {
    expect(webhookPartition('wh_abc', 1)).toBe(0);
    expect(webhookPartition('wh_abc', 7)).toBe(webhookPartition('wh_abc', 7));
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[webhookPartition(`wh_${i.toString(36)}x${i * 7919}`, 4)]! += 1;
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });
});
