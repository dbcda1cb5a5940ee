import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Signatures a receiver can check. Three schemes are sent side by side so that receivers
 * written for Standard Webhooks (Svix), CVAT/GitHub and Labelbox all work unchanged.
 */

export type Payload = Buffer | string;

const SECRET_PREFIX = 'whsec_';
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Default tolerance for `webhook-timestamp`, as in the Standard Webhooks libraries. */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(24).toString('base64');
}

/**
 * The HMAC key for Standard Webhooks signatures. A `whsec_` secret whose rest is not
 * valid base64 (a user may type anything) falls back to the UTF-8 bytes of the whole
 * secret, since Node's lenient decoder would otherwise silently drop characters.
 */
export function standardWebhookKey(secret: string): Buffer {
  if (secret.startsWith(SECRET_PREFIX)) {
    const rest = secret.slice(SECRET_PREFIX.length);
    if (rest.length > 0 && STRICT_BASE64.test(rest)) return Buffer.from(rest, 'base64');
  }
  return Buffer.from(secret, 'utf8');
}

function toBytes(body: Payload): Buffer {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

/** Compares without leaking timing; unequal lengths are simply unequal. */
export function constantTimeEqual(a: Payload, b: Payload): boolean {
  const x = toBytes(a);
  const y = toBytes(b);
  if (x.length !== y.length) {
    // Still spend a comparison so a length mismatch is not measurably faster.
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

function standardSignature(key: Buffer, msgId: string, timestampSeconds: number, body: Payload): string {
  return createHmac('sha256', key)
    .update(`${msgId}.${timestampSeconds}.`, 'utf8')
    .update(toBytes(body))
    .digest('base64');
}

export interface StandardSignInput {
  msgId: string;
  timestampSeconds: number;
  body: Payload;
  /** Current secret first; during a rotation also the previous one. */
  secrets: readonly string[];
}

/** The `webhook-signature` header value: `v1,<base64>` per secret, space-separated. */
export function signStandardWebhook(input: StandardSignInput): string {
  if (!Number.isSafeInteger(input.timestampSeconds)) {
    throw new RangeError('timestampSeconds must be an integer');
  }
  if (input.secrets.length === 0) throw new RangeError('at least one secret is required');
  return input.secrets
    .map((secret) => `v1,${standardSignature(standardWebhookKey(secret), input.msgId, input.timestampSeconds, input.body)}`)
    .join(' ');
}

type HeaderBag = Record<string, string | readonly string[] | undefined>;

export type StandardVerifyInput = {
  body: Payload;
  /** One secret, or several to accept any (e.g. a receiver mid-rotation). */
  secret: string | readonly string[];
  toleranceSeconds?: number;
  nowSeconds?: number;
} & (
  | { headers: HeaderBag }
  | { msgId: string | undefined; timestamp: string | number | undefined; signature: string | undefined }
);

function headerValue(headers: HeaderBag, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    return typeof value === 'string' ? value : value?.[0];
  }
  return undefined;
}

export function verifyStandardWebhook(input: StandardVerifyInput): boolean {
  const msgId = 'headers' in input ? headerValue(input.headers, 'webhook-id') : input.msgId;
  const rawTimestamp = 'headers' in input ? headerValue(input.headers, 'webhook-timestamp') : input.timestamp;
  const signature = 'headers' in input ? headerValue(input.headers, 'webhook-signature') : input.signature;
  if (!msgId || rawTimestamp === undefined || !signature) return false;

  const timestampText = String(rawTimestamp).trim();
  if (!/^\d{1,15}$/.test(timestampText)) return false;
  const timestamp = Number(timestampText);
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = input.toleranceSeconds ?? DEFAULT_SIGNATURE_TOLERANCE_SECONDS;
  if (Math.abs(now - timestamp) > tolerance) return false;

  const secrets = typeof input.secret === 'string' ? [input.secret] : input.secret;
  const expected = secrets.map((secret) =>
    standardSignature(standardWebhookKey(secret), msgId, timestamp, input.body),
  );
  // Walk every candidate rather than returning early, so timing does not tell which matched.
  let matched = false;
  for (const versioned of signature.split(' ')) {
    const comma = versioned.indexOf(',');
    if (comma < 0 || versioned.slice(0, comma) !== 'v1') continue;
    const candidate = versioned.slice(comma + 1);
    for (const sig of expected) {
      if (constantTimeEqual(candidate, sig)) matched = true;
    }
  }
  return matched;
}

function hmacHex(algorithm: 'sha256' | 'sha1', secret: string, body: Payload): string {
  return createHmac(algorithm, Buffer.from(secret, 'utf8')).update(toBytes(body)).digest('hex');
}

/** `X-Signature-256` value: keyed with the whole secret as typed, `whsec_` included. */
export function signSha256(secret: string, body: Payload): string {
  return `sha256=${hmacHex('sha256', secret, body)}`;
}

/** `X-Hub-Signature` value: keyed with the whole secret as typed, `whsec_` included. */
export function signSha1(secret: string, body: Payload): string {
  return `sha1=${hmacHex('sha1', secret, body)}`;
}

function verifyPrefixedHex(prefix: string, expected: string, signature: string | undefined | null): boolean {
  if (typeof signature !== 'string') return false;
  let hex = signature.trim();
  // CVAT documents the header both with and without the `sha256=` prefix.
  if (hex.slice(0, prefix.length).toLowerCase() === prefix) hex = hex.slice(prefix.length);
  return constantTimeEqual(`${prefix}${hex.toLowerCase()}`, expected);
}

export function verifySha256(secret: string, body: Payload, signature: string | undefined | null): boolean {
  return verifyPrefixedHex('sha256=', signSha256(secret, body), signature);
}

export function verifySha1(secret: string, body: Payload, signature: string | undefined | null): boolean {
  return verifyPrefixedHex('sha1=', signSha1(secret, body), signature);
}

export interface SignatureHeadersInput {
  eventId: string;
  timestampSeconds: number;
  body: Payload;
  secret: string;
  /** Set for 24 hours after a rotation, so receivers still on the old secret keep working. */
  previousSecret?: string | null;
}

/** Every signature header of one attempt. */
export function buildSignatureHeaders(input: SignatureHeadersInput): Record<string, string> {
  const secrets = [input.secret];
  if (input.previousSecret && input.previousSecret !== input.secret) secrets.push(input.previousSecret);
  return {
    'webhook-id': input.eventId,
    'webhook-timestamp': String(input.timestampSeconds),
    'webhook-signature': signStandardWebhook({
      msgId: input.eventId,
      timestampSeconds: input.timestampSeconds,
      body: input.body,
      secrets,
    }),
    'X-Signature-256': signSha256(input.secret, input.body),
    'X-Hub-Signature': signSha1(input.secret, input.body),
  };
}
