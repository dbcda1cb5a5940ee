/**
 * Why an attempt failed, and whether another attempt can help. The attempt log shows the
 * short `message` (e.g. `timeout`, `ECONNREFUSED`, `self-signed certificate`), never a
 * stack or a library's wording that changes between versions.
 */
export abstract class DeliveryAttemptError extends Error {
  abstract readonly retryable: boolean;
}

/** The receiver may recover: a timeout, a refused connection, a 5xx. */
export class TransientDeliveryError extends DeliveryAttemptError {
  override readonly name = 'TransientDeliveryError';
  readonly retryable = true;
}

/** Retrying cannot help (the receiver said 410 Gone, the URL cannot be parsed). */
export class PermanentDeliveryError extends DeliveryAttemptError {
  override readonly name = 'PermanentDeliveryError';
  readonly retryable = false;
}

/**
 * Thrown by the address guard inside got's DNS lookup and redirect hook. It is transient:
 * DNS may point the name elsewhere later, and the contract retries every failed attempt.
 * `code` survives got's wrapping, which copies it onto its RequestError.
 */
export class PrivateAddressError extends TransientDeliveryError {
  readonly code = 'EPRIVATEADDRESS';
  readonly address: string;

  constructor(address: string) {
    super(`private address refused: ${address}`);
    this.address = address;
  }
}

const TLS_MESSAGES: Readonly<Record<string, string>> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in chain',
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify certificate',
  UNABLE_TO_GET_ISSUER_CERT: 'unable to verify certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to verify certificate',
  ERR_TLS_CERT_ALTNAME_INVALID: 'certificate does not match host name',
  EPROTO: 'TLS handshake failed',
};

// Socket-level codes are already the words operators search for.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ECONNABORTED',
]);

const MAX_ERROR_LENGTH = 200;

function readString(value: unknown, key: string): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const field = (value as Record<string, unknown>)[key];
  return typeof field === 'string' ? field : undefined;
}

/** The short error an attempt log shows for anything the HTTP attempt threw. */
export function describeAttemptError(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (error instanceof DeliveryAttemptError) return error.message;
  if (cause instanceof DeliveryAttemptError) return cause.message;

  const name = readString(error, 'name');
  const code = readString(error, 'code') ?? readString(cause, 'code');
  if (name === 'TimeoutError' || code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') return 'timeout';
  if (name === 'MaxRedirectsError' || code === 'ERR_TOO_MANY_REDIRECTS') return 'too many redirects';
  if (code !== undefined) {
    const tls = TLS_MESSAGES[code];
    if (tls) return tls;
    if (NETWORK_CODES.has(code)) return code;
    if (code.startsWith('ERR_SSL_')) return 'TLS handshake failed';
  }
  const message = readString(error, 'message') ?? String(error);
  const text = code && code !== 'ERR_GOT_REQUEST_ERROR' ? `${code}: ${message}` : message;
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}
