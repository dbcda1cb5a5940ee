import { describe, expect, it } from '@jest/globals';
import { Histogram } from 'prom-client';
import { createMetricsRegistry, DURATION_BUCKETS } from '../src/metrics.js';

describe('createMetricsRegistry', () => {
  it('exposes the process metrics, and two registries never collide on a name', async () => {
    const a = createMetricsRegistry();
    const b = createMetricsRegistry();
    const text = await a.metrics();
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes /m);
    const make = (registry: typeof a) =>
      new Histogram({ name: 'x_duration_seconds', help: 'x', buckets: DURATION_BUCKETS, registers: [registry] });
    make(a);
    expect(() => make(b)).not.toThrow();
    expect(await b.metrics()).toContain('x_duration_seconds_bucket{le="60"}');
  });
});
