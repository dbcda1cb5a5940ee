import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookVerificationError } from './errors.js';

/** The body of every delivery (see "What a receiver gets" in the contract). */
export interface WebhookEnvelope<Data = Record<string, unknown>> {
  id: string;
  event: string;
  timestamp: string;
  team_id: number;
  project_id: number | null;
  webhook_id: string;
  data: Data;
  sender: Record<string, unknown> | null;
  [field: string]: unknown;
}

/** A fetch `Headers`, or node's / Express's `req.headers`. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export type SignatureScheme = 'standard' | 'sha256' | 'sha1';

export interface VerifyOptions {
  /** How far `webhook-timestamp` may be from now, either way [300]. */
  toleranceSeconds?: number;
  /** "Now" in unix seconds, for tests [the clock]. */
  nowSeconds?: number;
  /**
   * Schemes accepted [all three]. `standard` (`webhook-signature`, signed timestamp) is used
   * whenever its headers are there; `sha256` (`X-Signature-256`) and `sha1` (`X-Hub-Signature`)
   * only when they are not, e.g. behind a proxy that drops unknown headers. Those two sign
   * the body alone, so they cannot tell a replay: leave them out if you can.
   */
  schemes?: SignatureScheme[];
}

const DEFAULT_TOLERANCE_SECONDS = 300;
const ALL_SCHEMES: SignatureScheme[] = ['standard', 'sha256', 'sha1'];

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const found = record[name] ?? Object.entries(record).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(found) ? found[0] : found;
}

const bytesOf = (body: string | Uint8Array) => (typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body));

/** Standard Webhooks key: the base64-decoded rest of a `whsec_` secret, else its UTF-8 bytes. */
function standardKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function fail(reason: WebhookVerificationError['reason'], message: string): never {
  throw new WebhookVerificationError(reason, message);
}

function checkTimestamp(text: string, options: VerifyOptions): number {
  if (!/^\d{1,15}$/.test(text.trim())) fail('invalid_timestamp', 'webhook-timestamp is not a unix time in seconds');
  const timestamp = Number(text.trim());
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (now - timestamp > tolerance) fail('timestamp_too_old', `webhook-timestamp is more than ${tolerance} s old`);
  if (timestamp > now + tolerance) fail('timestamp_too_new', `webhook-timestamp is more than ${tolerance} s in the future`);
  return timestamp;
}

function standardMatches(secrets: string[], id: string, timestamp: number, signatures: string, body: Buffer): boolean {
  const offered = signatures
    .split(' ')
    .map((entry) => entry.split(','))
    .filter(([version]) => version === 'v1')
    .map(([, signature]) => signature ?? '');
  for (const secret of secrets) {
    const expected = createHmac('sha256', standardKey(secret)).update(`${id}.${timestamp}.`).update(body).digest('base64');
    if (offered.some((signature) => sameText(signature, expected))) return true;
  }
  return false;
}

function legacyMatches(secrets: string[], algorithm: 'sha256' | 'sha1', value: string, body: Buffer): boolean {
  return secrets.some((secret) => sameText(value, `${algorithm}=${createHmac(algorithm, secret).update(body).digest('hex')}`));
}

function parseEnvelope(body: Buffer): WebhookEnvelope {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as WebhookEnvelope;
  } catch {
    // reported below
  }
  return fail('invalid_body', 'the body is not a JSON object');
}

/**
 * Checks a delivery and returns its parsed envelope, or throws WebhookVerificationError
 * saying which check failed (headers, timestamp, signature, body), never which secret.
 * Give every secret you accept (e.g. old and new around a rotation); any match is enough,
 * as is any of the space-separated signatures Hooklane sends during its own rotation.
 */
export function verifyWebhook(
  secret: string | readonly string[],
  headers: WebhookHeaders,
  rawBody: string | Uint8Array,
  options: VerifyOptions = {},
): WebhookEnvelope {
  const secrets = (typeof secret === 'string' ? [secret] : [...secret]).filter((s) => typeof s === 'string' && s.length > 0);
  if (secrets.length === 0) throw new TypeError('verifyWebhook: no secret given');
  const schemes = options.schemes ?? ALL_SCHEMES;
  const body = bytesOf(rawBody);
  const signatures = header(headers, 'webhook-signature');

  if (signatures !== undefined && schemes.includes('standard')) {
    const id = header(headers, 'webhook-id');
    const timestampText = header(headers, 'webhook-timestamp');
    if (!id || !timestampText || !signatures) fail('missing_headers', 'webhook-id, webhook-timestamp and webhook-signature are all required');
    const timestamp = checkTimestamp(timestampText, options);
    if (!standardMatches(secrets, id, timestamp, signatures, body)) {
      fail('no_matching_signature', 'no webhook-signature matches this body and timestamp');
    }
    return parseEnvelope(body);
  }
  const sha256 = header(headers, 'x-signature-256');
  if (sha256 !== undefined && schemes.includes('sha256')) {
    if (!legacyMatches(secrets, 'sha256', sha256, body)) fail('no_matching_signature', 'X-Signature-256 does not match this body');
    return parseEnvelope(body);
  }
  const sha1 = header(headers, 'x-hub-signature');
  if (sha1 !== undefined && schemes.includes('sha1')) {
    if (!legacyMatches(secrets, 'sha1', sha1, body)) fail('no_matching_signature', 'X-Hub-Signature does not match this body');
    return parseEnvelope(body);
  }
  return fail('missing_headers', `no signature header of an accepted scheme (${schemes.join(', ')})`);
}
