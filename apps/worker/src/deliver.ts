import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import got, { type OptionsInit } from 'got';
import { describeAttemptError, PermanentDeliveryError } from './errors.js';
import { redirectHook } from './redirect-rules.js';
import type { TargetGuard } from './target-guard.js';

/** The attempt log keeps the first 4 KiB of an answer; the rest is never read. */
export const MAX_RESPONSE_BODY_BYTES = 4096;
export const MAX_REDIRECTS = 5;

export interface HttpAttemptRequest {
  url: string;
  body: Buffer;
  headers: Record<string, string>;
  timeoutMs: number;
  followRedirect: boolean;
  rejectUnauthorized: boolean;
}

export interface HttpAttemptResult {
  startedAt: Date;
  durationMs: number;
  /** The final answer's status (after redirects), or null when none came. */
  statusCode: number | null;
  responseBody: string | null;
  /** The answer's `Retry-After` header, as sent. */
  retryAfter: string | null;
  /** Short words for the attempt log; null when the receiver answered (whatever the status). */
  error: string | null;
  /** False when no later attempt can succeed (e.g. the URL cannot be parsed). */
  retryable: boolean;
}

export interface HttpClient {
  send(request: HttpAttemptRequest): Promise<HttpAttemptResult>;
  close(): void;
}

/**
 * The answer as stored: text of at most MAX_RESPONSE_BODY_BYTES bytes in UTF-8. Invalid
 * bytes and NUL (PostgreSQL text cannot hold it) become U+FFFD, three bytes each, so the
 * limit is applied again to the text; a decoder drops a character cut in half at the end.
 */
export function toStoredText(bytes: Buffer): string {
  const text = new StringDecoder('utf8').write(bytes.subarray(0, MAX_RESPONSE_BODY_BYTES)).replaceAll('\u0000', '\uFFFD');
  const encoded = Buffer.from(text, 'utf8');
  return encoded.length <= MAX_RESPONSE_BODY_BYTES ? text : new StringDecoder('utf8').write(encoded.subarray(0, MAX_RESPONSE_BODY_BYTES));
}

/**
 * One keep-alive agent pair per worker: receivers usually take many deliveries, and a
 * TLS handshake per attempt would cost more than the request. Node keys pooled sockets
 * by host, port and TLS options (rejectUnauthorized included), so webhooks never share
 * a socket they should not.
 */
export function createHttpClient(guard: TargetGuard): HttpClient {
  const agent = {
    http: new HttpAgent({ keepAlive: true }),
    https: new HttpsAgent({ keepAlive: true }),
  };

  async function send(request: HttpAttemptRequest): Promise<HttpAttemptResult> {
    const startedAt = new Date();
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);

    const target = checkTarget(request.url, guard);
    if (!(target instanceof URL)) return { startedAt, durationMs: elapsed(), ...target };

    const options = gotOptions(request, guard, agent);
    // A kept-alive socket the receiver closed while it sat idle fails with ECONNRESET, almost
    // always before the request was read: a race of ours, not the receiver's failure, so it
    // is replayed on a fresh socket within the same attempt (a rare duplicate is allowed).
    let outcome = await exchange(target, options);
    for (let replays = 0; outcome.staleSocket && replays < MAX_STALE_SOCKET_REPLAYS; replays++) {
      outcome = await exchange(target, options);
    }
    const { exchanged } = outcome;
    return {
      startedAt,
      durationMs: elapsed(),
      statusCode: exchanged.statusCode,
      responseBody: exchanged.body === null ? null : toStoredText(exchanged.body),
      retryAfter: exchanged.retryAfter,
      error: exchanged.error === undefined ? null : describeAttemptError(exchanged.error),
      retryable: true,
    };
  }

  return {
    send,
    close() {
      agent.http.destroy();
      agent.https.destroy();
    },
  };
}

type RefusedTarget = Omit<HttpAttemptResult, 'startedAt' | 'durationMs'>;

/** The URL to send to, or the attempt's result when it may not be sent at all. */
function checkTarget(raw: string, guard: TargetGuard): URL | RefusedTarget {
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new PermanentDeliveryError(`unsupported protocol ${url.protocol}`);
    }
    guard.checkUrl(url);
    return url;
  } catch (err) {
    return {
      statusCode: null,
      responseBody: null,
      retryAfter: null,
      error: err instanceof TypeError ? 'invalid URL' : describeAttemptError(err),
      retryable: !(err instanceof PermanentDeliveryError) && !(err instanceof TypeError),
    };
  }
}

function gotOptions(
  request: HttpAttemptRequest,
  guard: TargetGuard,
  agent: { http: HttpAgent; https: HttpsAgent },
): OptionsInit {
  return {
    method: 'POST',
    body: request.body,
    headers: request.headers,
    agent,
    dnsLookup: guard.lookup,
    timeout: { request: request.timeoutMs },
    followRedirect: request.followRedirect,
    maxRedirects: MAX_REDIRECTS,
    // 301/302 re-POST the same body instead of turning into a GET, as receivers expect.
    methodRewriting: false,
    https: { rejectUnauthorized: request.rejectUnauthorized },
    retry: { limit: 0 },
    throwHttpErrors: false,
    // Without Accept-Encoding the stored 4 KiB stay readable text.
    decompress: false,
    hooks: { beforeRedirect: [redirectHook(guard)] },
  };
}

interface Exchanged {
  statusCode: number | null;
  body: Buffer | null;
  retryAfter: string | null;
  error: unknown;
}

const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE']);
const MAX_STALE_SOCKET_REPLAYS = 2;

/** One request/response with got's stream, reading at most MAX_RESPONSE_BODY_BYTES of the answer. */
function exchange(url: URL, options: OptionsInit): Promise<{ exchanged: Exchanged; staleSocket: boolean }> {
  return new Promise((resolve) => {
    const stream = got.stream(url, { ...options, isStream: true });
    let statusCode: number | null = null;
    let retryAfter: string | null = null;
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;

    const settle = (error: unknown) => {
      if (settled) return;
      settled = true;
      const body = statusCode === null ? null : Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BODY_BYTES);
      const code = (error as { code?: unknown } | undefined)?.code;
      const staleSocket =
        error !== undefined && statusCode === null && stream.reusedSocket === true && STALE_SOCKET_CODES.has(String(code));
      resolve({ exchanged: { statusCode, body, retryAfter, error }, staleSocket });
    };

    stream.on('response', (response: { statusCode: number; headers: Record<string, string | string[] | undefined> }) => {
      statusCode = response.statusCode;
      const header = response.headers['retry-after'];
      retryAfter = Array.isArray(header) ? (header[0] ?? null) : (header ?? null);
    });
    stream.on('data', (chunk: Buffer) => {
      if (size < MAX_RESPONSE_BODY_BYTES) chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_RESPONSE_BODY_BYTES) {
        // Enough for the log: stop reading rather than buffer a huge answer.
        settle(undefined);
        stream.destroy();
      }
    });
    stream.once('end', () => settle(undefined));
    stream.once('error', (err: unknown) => settle(err));
  });
}
