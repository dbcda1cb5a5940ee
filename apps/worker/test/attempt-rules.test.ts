import { describe, it, expect } from '@jest/globals';
import type { DeliveryForAttempt } from '@hooklane/db';
import type { HttpAttemptResult } from '../src/deliver.js';
import { buildDeliveryRequest } from '../src/delivery-request.js';
import { describeAttemptError, PrivateAddressError } from '../src/errors.js';
import { attemptError, decideAfterAttempt } from '../src/retry-decision.js';

function record(overrides: { webhook?: Partial<DeliveryForAttempt['webhook']>; isTest?: boolean } = {}): DeliveryForAttempt {
  const at = new Date('2026-02-06T12:34:56.789Z');
  return {
    delivery: { id: 'dlv_1', status: 'pending', attempts: 0, isTest: overrides.isTest ?? false, createdAt: at, line: null },
    webhook: {
      id: 'wh_1',
      teamId: 7,
      url: 'https://hooks.example.test/in',
      headers: {},
      secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=',
      previousSecret: null,
      previousSecretExpiresAt: null,
      retriesCount: 5,
      retriesDelay: 10,
      retryBackoff: 'fixed',
      followRedirect: true,
      rejectUnauthorized: true,
      timeout: 10,
      isActive: true,
      deletedAt: null,
      rateLimit: null,
      failingSince: null,
      ...overrides.webhook,
    },
    event: { id: 'evt_1', type: 'task.created', teamId: 7, projectId: null, timestamp: at, data: {}, sender: null, createdAt: at },
  };
}

function answered(statusCode: number | null, extra: Partial<HttpAttemptResult> = {}): HttpAttemptResult {
  return {
    startedAt: new Date(),
    durationMs: 5,
    statusCode,
    responseBody: '',
    retryAfter: null,
    error: null,
    retryable: true,
    ...extra,
  };
}

describe('decideAfterAttempt', () => {
  it('treats every 2xx as success and anything else as a failure to retry', () => {
    expect(decideAfterAttempt(record(), 1, answered(204))).toEqual({ status: 'succeeded' });
    expect(decideAfterAttempt(record(), 1, answered(500))).toEqual({ status: 'pending', delayMs: 10_000 });
    expect(decideAfterAttempt(record(), 1, answered(302))).toEqual({ status: 'pending', delayMs: 10_000 });
    expect(decideAfterAttempt(record(), 1, answered(null, { error: 'timeout' }))).toEqual({ status: 'pending', delayMs: 10_000 });
  });

  it('allows retries_count retries after the first attempt', () => {
    const r = record({ webhook: { retriesCount: 2 } });
    expect(decideAfterAttempt(r, 2, answered(500)).status).toBe('pending');
    expect(decideAfterAttempt(r, 3, answered(500))).toEqual({ status: 'failed', reason: 'exhausted' });
  });

  it('grows exponential delays and honours Retry-After only on 429 and 503', () => {
    const r = record({ webhook: { retryBackoff: 'exponential', retriesDelay: 1 } });
    const third = decideAfterAttempt(r, 3, answered(500));
    expect(third.status === 'pending' && third.delayMs).toBeGreaterThanOrEqual(4000);
    expect(third.status === 'pending' && third.delayMs).toBeLessThanOrEqual(4400);
    expect(decideAfterAttempt(record(), 1, answered(429, { retryAfter: '120' }))).toEqual({ status: 'pending', delayMs: 120_000 });
    expect(decideAfterAttempt(record(), 1, answered(503, { retryAfter: '99999' }))).toEqual({ status: 'pending', delayMs: 3_600_000 });
    expect(decideAfterAttempt(record(), 1, answered(500, { retryAfter: '120' }))).toEqual({ status: 'pending', delayMs: 10_000 });
  });

  it('ends at 410 Gone, for test pings, and for permanent errors', () => {
    expect(decideAfterAttempt(record(), 1, answered(410))).toEqual({ status: 'failed', reason: 'gone' });
    expect(decideAfterAttempt(record({ isTest: true }), 1, answered(500))).toEqual({ status: 'failed', reason: 'test' });
    expect(decideAfterAttempt(record(), 1, answered(null, { error: 'invalid URL', retryable: false }))).toEqual({
      status: 'failed',
      reason: 'permanent',
    });
  });
});

describe('attempt log wording', () => {
  it('names an unfollowed redirect and maps library errors to short words', () => {
    expect(attemptError(answered(301))).toBe('redirect not followed');
    expect(attemptError(answered(200))).toBeNull();
    expect(describeAttemptError(Object.assign(new Error('Timeout awaiting request'), { name: 'TimeoutError', code: 'ETIMEDOUT' }))).toBe('timeout');
    expect(describeAttemptError(Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }))).toBe('self-signed certificate');
    expect(describeAttemptError(Object.assign(new Error('x'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }))).toMatch(/^self-signed certificate/);
    expect(describeAttemptError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(describeAttemptError(new Error('wrapped', { cause: new PrivateAddressError('10.0.0.1') }))).toBe('private address refused: 10.0.0.1');
    expect(describeAttemptError(new Error('x'.repeat(500))).length).toBeLessThanOrEqual(200);
  });
});

describe('buildDeliveryRequest', () => {
  it('never lets a webhook header replace a contract header', () => {
    const r = record({ webhook: { headers: { 'content-type': 'text/plain', 'X-Webhook-Attempt': '99', 'X-Team': 'blue' } } });
    const request = buildDeliveryRequest(r, 2, new Date());
    const lower = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
    expect(lower['content-type']).toBe('application/json');
    expect(lower['x-webhook-attempt']).toBe('2');
    expect(lower['x-team']).toBe('blue');
    expect(Object.keys(request.headers).filter((k) => k.toLowerCase() === 'content-type')).toHaveLength(1);
  });

  it('builds the same body bytes for every attempt, whatever the clock says', () => {
    const r = record();
    const first = buildDeliveryRequest(r, 1, new Date('2026-02-06T12:35:00Z'));
    const later = buildDeliveryRequest(r, 4, new Date('2026-02-07T09:00:00Z'));
    expect(later.body.equals(first.body)).toBe(true);
    expect(later.headers['webhook-timestamp']).not.toBe(first.headers['webhook-timestamp']);
    expect(first.timeoutMs).toBe(10_000);
  });
});
