import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import fc from 'fast-check';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { verifyWebhook, WebhookVerificationError } from '../src/index.js';

/**
 * verifyWebhook against the reference implementations: `standardwebhooks` for the
 * `webhook-signature` scheme (property-based, over generated secrets, ids, timestamps,
 * bodies and signature lists), and octokit's signer for `X-Signature-256`.
 */

const now = () => Math.floor(Date.now() / 1000);
const whsecOf = (bytes: Uint8Array) => `whsec_${Buffer.from(bytes).toString('base64')}`;

function standardSignature(secret: string, id: string, timestamp: number, body: string): string {
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

function reference(secret: string) {
  return secret.startsWith('whsec_') ? new StandardWebhook(secret) : new StandardWebhook(secret, { format: 'raw' });
}

function referenceAccepts(secret: string, headers: Record<string, string>, body: string): boolean {
  try {
    reference(secret).verify(body, headers);
    return true;
  } catch {
    return false;
  }
}

function oursAccepts(secret: string, headers: Record<string, string>, body: string): boolean {
  try {
    verifyWebhook(secret, headers, body);
    return true;
  } catch (err) {
    if (!(err instanceof WebhookVerificationError)) throw err;
    return false;
  }
}

// Plain secrets are ASCII: standardwebhooks' "raw" format takes char codes, the contract UTF-8 bytes.
const secretArb = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 64 }).map(whsecOf),
  fc.string({ minLength: 8, maxLength: 40, unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789-_.!') }),
);
const idArb = fc.stringMatching(/^[A-Za-z0-9_]{1,40}$/);
const bodyArb = fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }).map((o) => JSON.stringify(o));
// Seconds from now; the two boundaries (±300) are left out so a tick of the clock between
// the two verifications cannot make them disagree.
const offsetArb = fc.integer({ min: -1200, max: 1200 }).filter((o) => Math.abs(Math.abs(o) - 300) > 2);
type Entry = 'right' | 'other-secret' | 'other-body' | 'garbage' | 'v2-right' | 'empty';
const entriesArb = fc.array(fc.constantFrom<Entry>('right', 'other-secret', 'other-body', 'garbage', 'v2-right', 'empty'), {
  minLength: 1,
  maxLength: 4,
});

describe('verifyWebhook accepts exactly what standardwebhooks accepts', () => {
  it('over generated secrets, ids, timestamps, bodies, signature lists, tampering and wrong secrets', () => {
    fc.assert(
      fc.property(
        secretArb,
        secretArb,
        idArb,
        bodyArb,
        offsetArb,
        entriesArb,
        fc.constantFrom('none', 'tamper-body', 'wrong-secret', 'other-id', 'drop-id'),
        (secret, otherSecret, id, body, offset, entries, mutation) => {
          const timestamp = now() + offset;
          const signature = entries
            .map((entry) => {
              const right = standardSignature(secret, id, timestamp, body);
              if (entry === 'right') return right;
              if (entry === 'other-secret') return standardSignature(otherSecret, id, timestamp, body);
              if (entry === 'other-body') return standardSignature(secret, id, timestamp, `${body} `);
              if (entry === 'v2-right') return right.replace('v1,', 'v2,');
              if (entry === 'empty') return 'v1,';
              return `v1,${randomBytes(32).toString('base64')}`;
            })
            .join(' ');
          const headers: Record<string, string> = {
            'webhook-id': mutation === 'other-id' ? `${id}x` : id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signature,
          };
          if (mutation === 'drop-id') delete headers['webhook-id'];
          const verifySecret = mutation === 'wrong-secret' ? otherSecret : secret;
          const verifyBody = mutation === 'tamper-body' ? body.replace(/}$/, ',"x":1}').replace('{,', '{') : body;
          const expected = referenceAccepts(verifySecret, headers, verifyBody);
          expect(oursAccepts(verifySecret, headers, verifyBody)).toBe(expected);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('the property is not vacuous: both sides accept and reject in the generated cases', () => {
    const secret = whsecOf(randomBytes(24));
    const body = '{"a":1}';
    const good = { 'webhook-id': 'evt_1', 'webhook-timestamp': String(now()), 'webhook-signature': standardSignature(secret, 'evt_1', now(), body) };
    expect([referenceAccepts(secret, good, body), oursAccepts(secret, good, body)]).toEqual([true, true]);
    const stale = { ...good, 'webhook-timestamp': String(now() - 400) };
    expect([referenceAccepts(secret, stale, body), oursAccepts(secret, stale, body)]).toEqual([false, false]);
  });
});

describe('verifyWebhook checks and errors', () => {
  const secret = whsecOf(randomBytes(24));
  const body = JSON.stringify({ id: 'evt_1', event: 'ping', team_id: 1, data: { ok: true } });
  const headersAt = (timestamp: number, signingSecret = secret) => ({
    'webhook-id': 'evt_1',
    'webhook-timestamp': String(timestamp),
    'webhook-signature': standardSignature(signingSecret, 'evt_1', timestamp, body),
  });
  const reasonOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return err instanceof WebhookVerificationError ? { reason: err.reason, message: err.message } : err;
    }
    return 'accepted';
  };

  it('returns the parsed envelope; accepts Headers, Buffers and node header records', () => {
    expect(verifyWebhook(secret, headersAt(now()), body).data).toEqual({ ok: true });
    expect(verifyWebhook(secret, new Headers(headersAt(now())), Buffer.from(body)).event).toBe('ping');
    const upper = Object.fromEntries(Object.entries(headersAt(now())).map(([k, v]) => [k.toUpperCase(), [v]]));
    expect(verifyWebhook(secret, upper, new Uint8Array(Buffer.from(body))).id).toBe('evt_1');
  });

  it('names the failed check and never the secret', () => {
    const wrong = whsecOf(randomBytes(24));
    const cases = [
      reasonOf(() => verifyWebhook(secret, { 'webhook-signature': 'v1,x' }, body)),
      reasonOf(() => verifyWebhook(secret, headersAt(now() - 301), body)),
      reasonOf(() => verifyWebhook(secret, headersAt(now() + 301), body)),
      reasonOf(() => verifyWebhook(secret, { ...headersAt(now()), 'webhook-timestamp': 'soon' }, body)),
      reasonOf(() => verifyWebhook(wrong, headersAt(now()), body)),
      reasonOf(() => verifyWebhook(secret, headersAt(now()), body.replace('true', 'false'))),
    ];
    expect(cases.map((c) => (c as { reason: string }).reason)).toEqual([
      'missing_headers',
      'timestamp_too_old',
      'timestamp_too_new',
      'invalid_timestamp',
      'no_matching_signature',
      'no_matching_signature',
    ]);
    for (const c of cases) {
      const message = (c as { message: string }).message;
      expect(message).not.toContain(secret.slice(6, 20));
      expect(message).not.toContain(wrong.slice(6, 20));
    }
  });

  it('tolerance is 300 s by default and configurable', () => {
    expect(reasonOf(() => verifyWebhook(secret, headersAt(now() - 290), body))).not.toHaveProperty('reason');
    expect(reasonOf(() => verifyWebhook(secret, headersAt(now() - 100), body, { toleranceSeconds: 60 }))).toMatchObject({
      reason: 'timestamp_too_old',
    });
    expect(verifyWebhook(secret, headersAt(1_000), body, { nowSeconds: 1_100 }).id).toBe('evt_1');
  });

  it('is rotation-aware both ways: any of several signatures, any of several secrets', () => {
    const older = 'plain-old-secret';
    const t = now();
    const both = { ...headersAt(t), 'webhook-signature': `${standardSignature(secret, 'evt_1', t, body)} ${standardSignature(older, 'evt_1', t, body)}` };
    expect(verifyWebhook(older, both, body).id).toBe('evt_1');
    expect(verifyWebhook(secret, both, body).id).toBe('evt_1');
    expect(verifyWebhook(['unrelated-secret', older], headersAt(t, older), body).id).toBe('evt_1');
    expect(() => verifyWebhook(['unrelated-secret'], both, body)).toThrow(WebhookVerificationError);
  });

  it('X-Signature-256 and X-Hub-Signature when the Standard Webhooks headers are absent', async () => {
    const sha256 = await octokitSign(secret, body);
    expect(verifyWebhook(secret, { 'x-signature-256': sha256 }, body).id).toBe('evt_1');
    expect(() => verifyWebhook('other-secret', { 'x-signature-256': sha256 }, body)).toThrow(/X-Signature-256/);
    const sha1 = `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`;
    expect(verifyWebhook(secret, { 'X-Hub-Signature': sha1 }, body).id).toBe('evt_1');
    expect(() => verifyWebhook(secret, { 'x-signature-256': sha256 }, body, { schemes: ['standard'] })).toThrow(
      expect.objectContaining({ reason: 'missing_headers' }),
    );
  });

  it('a verified body that is not a JSON object is refused', () => {
    const t = now();
    const text = 'not json';
    const headers = { 'webhook-id': 'evt_1', 'webhook-timestamp': String(t), 'webhook-signature': standardSignature(secret, 'evt_1', t, text) };
    expect(reasonOf(() => verifyWebhook(secret, headers, text))).toMatchObject({ reason: 'invalid_body' });
  });
});
