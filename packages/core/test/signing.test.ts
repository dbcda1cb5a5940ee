import { describe, it, expect } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { verify as octokitVerify } from '@octokit/webhooks-methods';
import { createHmac } from 'node:crypto';
import {
  buildSignatureHeaders,
  constantTimeEqual,
  generateSecret,
  signSha1,
  signSha256,
  signStandardWebhook,
  standardWebhookKey,
  verifySha1,
  verifySha256,
  verifyStandardWebhook,
} from '../src/index.js';

const body = '{"id":"evt_1","event":"ping","data":{"x":"é"}}';
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('generateSecret', () => {
  it('is whsec_ plus base64 of 24 random bytes', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(24);
    expect(generateSecret()).not.toBe(secret);
  });
});

describe('standardWebhookKey', () => {
  it('base64-decodes the rest of a whsec_ secret', () => {
    const raw = Buffer.from('0123456789abcdef01234567');
    expect(standardWebhookKey(`whsec_${raw.toString('base64')}`).equals(raw)).toBe(true);
  });
  it('uses the UTF-8 bytes of any other secret', () => {
    expect(standardWebhookKey('plain-secret').equals(Buffer.from('plain-secret'))).toBe(true);
  });
  it('falls back to UTF-8 for a whsec_ secret that is not base64', () => {
    expect(standardWebhookKey('whsec_not base64!').equals(Buffer.from('whsec_not base64!'))).toBe(true);
  });
});

describe('X-Signature-256 and X-Hub-Signature', () => {
  it('matches the published CVAT vector (empty body, secret "mykey")', () => {
    expect(signSha256('mykey', '')).toBe(
      'sha256=e1b24265bf2e0b20c81837993b4f1415f7b68c503114d100a40601eca6a2745f',
    );
  });

  it('keys with the whole secret, whsec_ prefix included', () => {
    const secret = generateSecret();
    const hex = createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex');
    expect(signSha256(secret, body)).toBe(`sha256=${hex}`);
    const sha1 = createHmac('sha1', Buffer.from(secret, 'utf8')).update(body).digest('hex');
    expect(signSha1(secret, body)).toBe(`sha1=${sha1}`);
  });

  it('gives the same result for a Buffer and a string body', () => {
    expect(signSha256('k', Buffer.from(body))).toBe(signSha256('k', body));
    expect(signSha1('k', Buffer.from(body))).toBe(signSha1('k', body));
  });

  it('verifies with @octokit/webhooks-methods', async () => {
    const secret = generateSecret();
    expect(await octokitVerify(secret, body, signSha256(secret, body))).toBe(true);
    expect(await octokitVerify(secret, `${body} `, signSha256(secret, body))).toBe(false);
  });

  it('our verifiers accept the right signature and reject a changed body or wrong secret', () => {
    const secret = 'my-secret-1';
    expect(verifySha256(secret, body, signSha256(secret, body))).toBe(true);
    expect(verifySha256(secret, body, signSha256(secret, body).slice('sha256='.length))).toBe(true);
    expect(verifySha256(secret, `${body}x`, signSha256(secret, body))).toBe(false);
    expect(verifySha256('other-secret', body, signSha256(secret, body))).toBe(false);
    expect(verifySha256(secret, body, 'sha256=abc')).toBe(false);
    expect(verifySha256(secret, body, undefined)).toBe(false);
    expect(verifySha1(secret, body, signSha1(secret, body))).toBe(true);
    expect(verifySha1(secret, `${body}x`, signSha1(secret, body))).toBe(false);
    expect(verifySha1('other-secret', body, signSha1(secret, body))).toBe(false);
  });
});

describe('Standard Webhooks signature', () => {
  it('verifies with the standardwebhooks package for a whsec_ secret', () => {
    const secret = generateSecret();
    const ts = nowSeconds();
    const signature = signStandardWebhook({ msgId: 'evt_1', timestampSeconds: ts, body, secrets: [secret] });
    expect(signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const headers = { 'webhook-id': 'evt_1', 'webhook-timestamp': String(ts), 'webhook-signature': signature };
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow();
  });

  it('verifies with the standardwebhooks package for a raw secret', () => {
    const secret = 'a-raw-secret-typed-by-a-user';
    const ts = nowSeconds();
    const signature = signStandardWebhook({ msgId: 'evt_2', timestampSeconds: ts, body, secrets: [secret] });
    const headers = { 'webhook-id': 'evt_2', 'webhook-timestamp': String(ts), 'webhook-signature': signature };
    expect(new Webhook(secret, { format: 'raw' }).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('matches what standardwebhooks signs', () => {
    const secret = generateSecret();
    const ts = 1_770_381_296;
    expect(signStandardWebhook({ msgId: 'evt_3', timestampSeconds: ts, body, secrets: [secret] })).toBe(
      new Webhook(secret).sign('evt_3', new Date(ts * 1000), body),
    );
  });

  it('accepts its own signatures and rejects a changed body, a wrong secret, a stale or future timestamp', () => {
    const secret = generateSecret();
    const ts = 1_770_381_296;
    const signature = signStandardWebhook({ msgId: 'evt_4', timestampSeconds: ts, body, secrets: [secret] });
    const base = { msgId: 'evt_4', timestamp: ts, signature, body, secret, nowSeconds: ts + 10 };
    expect(verifyStandardWebhook(base)).toBe(true);
    expect(verifyStandardWebhook({ ...base, body: Buffer.from(body) })).toBe(true);
    expect(verifyStandardWebhook({ ...base, body: `${body} ` })).toBe(false);
    expect(verifyStandardWebhook({ ...base, secret: generateSecret() })).toBe(false);
    expect(verifyStandardWebhook({ ...base, msgId: 'evt_5' })).toBe(false);
    expect(verifyStandardWebhook({ ...base, nowSeconds: ts + 301 })).toBe(false);
    expect(verifyStandardWebhook({ ...base, nowSeconds: ts - 301 })).toBe(false);
    expect(verifyStandardWebhook({ ...base, nowSeconds: ts + 300 })).toBe(true);
    expect(verifyStandardWebhook({ ...base, nowSeconds: ts + 3000, toleranceSeconds: 3600 })).toBe(true);
    expect(verifyStandardWebhook({ ...base, timestamp: 'soon' })).toBe(false);
    expect(verifyStandardWebhook({ ...base, signature: 'v2,' + signature.slice(3) })).toBe(false);
    expect(verifyStandardWebhook({ ...base, signature: undefined })).toBe(false);
  });

  it('reads case-insensitive headers and defaults the clock to now', () => {
    const secret = generateSecret();
    const ts = nowSeconds();
    const signature = signStandardWebhook({ msgId: 'evt_6', timestampSeconds: ts, body, secrets: [secret] });
    const headers = { 'Webhook-Id': 'evt_6', 'WEBHOOK-TIMESTAMP': String(ts), 'webhook-signature': signature };
    expect(verifyStandardWebhook({ headers, body, secret })).toBe(true);
    expect(verifyStandardWebhook({ headers: { ...headers, 'WEBHOOK-TIMESTAMP': String(ts - 600) }, body, secret })).toBe(
      false,
    );
  });
});

describe('rotation', () => {
  it('signs with the new secret first and either secret verifies', () => {
    const oldSecret = generateSecret();
    const newSecret = generateSecret();
    const ts = nowSeconds();
    const headers = buildSignatureHeaders({
      eventId: 'evt_7',
      timestampSeconds: ts,
      body,
      secret: newSecret,
      previousSecret: oldSecret,
    });
    const parts = headers['webhook-signature']?.split(' ') ?? [];
    expect(parts).toHaveLength(2);
    expect(parts[0]).toBe(signStandardWebhook({ msgId: 'evt_7', timestampSeconds: ts, body, secrets: [newSecret] }));
    expect(parts[1]).toBe(signStandardWebhook({ msgId: 'evt_7', timestampSeconds: ts, body, secrets: [oldSecret] }));

    expect(verifyStandardWebhook({ headers, body, secret: newSecret })).toBe(true);
    expect(verifyStandardWebhook({ headers, body, secret: oldSecret })).toBe(true);
    expect(verifyStandardWebhook({ headers, body, secret: generateSecret() })).toBe(false);

    // The reference library accepts a header holding two signatures, with either key.
    const swHeaders = {
      'webhook-id': headers['webhook-id'] ?? '',
      'webhook-timestamp': headers['webhook-timestamp'] ?? '',
      'webhook-signature': headers['webhook-signature'] ?? '',
    };
    expect(new Webhook(newSecret).verify(body, swHeaders)).toEqual(JSON.parse(body));
    expect(new Webhook(oldSecret).verify(body, swHeaders)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateSecret()).verify(body, swHeaders)).toThrow();

    // The X-* headers are keyed with the current secret only.
    expect(headers['X-Signature-256']).toBe(signSha256(newSecret, body));
    expect(headers['X-Hub-Signature']).toBe(signSha1(newSecret, body));
  });

  it('sends one signature without a previous secret, or when it equals the current one', () => {
    const secret = generateSecret();
    for (const previousSecret of [undefined, null, secret]) {
      const headers = buildSignatureHeaders({ eventId: 'evt_8', timestampSeconds: 1, body, secret, previousSecret });
      expect(headers['webhook-signature']?.split(' ')).toHaveLength(1);
    }
  });

  it('builds exactly the contract headers', () => {
    const headers = buildSignatureHeaders({ eventId: 'evt_9', timestampSeconds: 1_770_381_296, body, secret: 'mykey' });
    expect(Object.keys(headers).sort()).toEqual(
      ['X-Hub-Signature', 'X-Signature-256', 'webhook-id', 'webhook-signature', 'webhook-timestamp'].sort(),
    );
    expect(headers['webhook-id']).toBe('evt_9');
    expect(headers['webhook-timestamp']).toBe('1770381296');
  });
});

describe('constantTimeEqual', () => {
  it('is false for different lengths and true only for equal bytes', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual(Buffer.from('abc'), 'abc')).toBe(true);
  });
});
