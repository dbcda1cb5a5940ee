import { describe, expect, it } from '@jest/globals';
import { partitionConcurrency } from '../src/partition-consumer.js';

// WORKER_CONCURRENCY is per process (API.md): split over the partitions' BullMQ workers.
describe('partitionConcurrency', () => {
  it('splits WORKER_CONCURRENCY over the partitions, the remainder to the first ones', () => {
    const split = (c: number, n: number) => Array.from({ length: n }, (_, p) => partitionConcurrency(c, n, p));
    expect(split(50, 1)).toEqual([50]);
    expect(split(50, 3)).toEqual([17, 17, 16]);
    expect(split(12, 3)).toEqual([4, 4, 4]);
    expect(split(10, 4)).toEqual([3, 3, 2, 2]);
    for (const [c, n] of [[50, 3], [7, 7], [100, 16]] as const) expect(split(c, n).reduce((a, b) => a + b, 0)).toBe(c);
  });

  it('gives every partition at least one, even with fewer slots than partitions', () => {
    expect(Array.from({ length: 4 }, (_, p) => partitionConcurrency(2, 4, p))).toEqual([1, 1, 1, 1]);
  });
});
