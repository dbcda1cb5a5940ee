import { describe, it, expect } from '@jest/globals';
import { buildEnvelope } from '../src/index.js';

const input = {
  eventId: 'evt_01JKA8W5Q0V3M4N5P6R7S8T9V0',
  event: 'labeling_job.completed',
  timestamp: new Date('2026-02-06T12:34:56.789Z'),
  teamId: 123,
  projectId: 456,
  webhookId: 'wh_01JKA8W5Q0V3M4N5P6R7S8T9V1',
  data: { job_id: 789, status: 'completed', note: 'ünïcode' },
  sender: null,
};

describe('buildEnvelope', () => {
  it('produces the exact bytes, keys in contract order', () => {
    const body = buildEnvelope(input);
    expect(Buffer.isBuffer(body)).toBe(true);
    expect(body.toString('utf8')).toBe(
      '{"id":"evt_01JKA8W5Q0V3M4N5P6R7S8T9V0","event":"labeling_job.completed",' +
        '"timestamp":"2026-02-06T12:34:56.789Z","team_id":123,"project_id":456,' +
        '"webhook_id":"wh_01JKA8W5Q0V3M4N5P6R7S8T9V1",' +
        '"data":{"job_id":789,"status":"completed","note":"ünïcode"},"sender":null}',
    );
    expect(Object.keys(JSON.parse(body.toString('utf8')) as object)).toEqual([
      'id',
      'event',
      'timestamp',
      'team_id',
      'project_id',
      'webhook_id',
      'data',
      'sender',
    ]);
  });

  it('is byte-identical when built twice, and a string timestamp equals the Date', () => {
    const a = buildEnvelope(input);
    const b = buildEnvelope({ ...input, timestamp: '2026-02-06T12:34:56.789Z' });
    expect(a.equals(b)).toBe(true);
    expect(a.equals(buildEnvelope(input))).toBe(true);
  });

  it('writes timestamps as ISO-8601 UTC, null project and a sender object', () => {
    const body = JSON.parse(
      buildEnvelope({
        ...input,
        timestamp: '2026-02-06T14:34:56.789+02:00',
        projectId: null,
        sender: { id: 1, username: 'admin1' },
      }).toString('utf8'),
    ) as Record<string, unknown>;
    expect(body.timestamp).toBe('2026-02-06T12:34:56.789Z');
    expect(body.project_id).toBeNull();
    expect(body.sender).toEqual({ id: 1, username: 'admin1' });
  });

  it('rejects an invalid timestamp', () => {
    expect(() => buildEnvelope({ ...input, timestamp: 'yesterday-ish' })).toThrow(RangeError);
  });
});
