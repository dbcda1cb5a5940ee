import type { IncomingMessage, ServerResponse } from 'node:http';
import { WebhookVerificationError } from './errors.js';
import { verifyWebhook, type VerifyOptions, type WebhookEnvelope } from './verify.js';

declare global {
  // Express's Request merges this namespace, so `req.hooklaneEvent` is typed in handlers.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      hooklaneEvent?: WebhookEnvelope;
    }
  }
}

export interface ReceiverOptions extends Omit<VerifyOptions, 'nowSeconds'> {
  /** The webhook's secret. */
  secret?: string;
  /** Several secrets, any of which may have signed (yours around a rotation). */
  secrets?: readonly string[];
  /** Larger bodies are answered 413 without being read further [5 MiB]. */
  maxBodyBytes?: number;
}

/** What the middleware adds to the request it passes on. */
export type VerifiedRequest = IncomingMessage & { hooklaneEvent: WebhookEnvelope; body: WebhookEnvelope; rawBody: Buffer };

type Next = (err?: unknown) => void;
type MaybeParsed = IncomingMessage & { body?: unknown; rawBody?: unknown; hooklaneEvent?: WebhookEnvelope };

class BodyTooLarge extends Error {}

/** The body as received: a raw body another middleware kept, else read from the stream. */
async function rawBodyOf(req: MaybeParsed, limit: number): Promise<Buffer> {
  if (Buffer.isBuffer(req.rawBody)) return req.rawBody;
  if (typeof req.rawBody === 'string') return Buffer.from(req.rawBody, 'utf8');
  if (Buffer.isBuffer(req.body)) return req.body; // express.raw() ran first
  if (req.readableEnded || req.body !== undefined) {
    throw new Error('the body was already parsed; mount hooklaneReceiver before express.json() (it reads the raw body itself)');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function answer(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) return;
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ error: { code, message } }));
}

/**
 * Express middleware (also a plain `node:http` handler prefix: `receive(req, res, next)`)
 * that reads the raw body, verifies it like verifyWebhook, puts the envelope on
 * `req.hooklaneEvent` (and `req.body`) and calls `next()`. A bad signature, a stale
 * timestamp or missing headers get a 400 and the handler never runs.
 */
export function hooklaneReceiver(options: ReceiverOptions) {
  const secrets = [...(options.secrets ?? []), ...(options.secret ? [options.secret] : [])];
  if (secrets.length === 0) throw new TypeError('hooklaneReceiver: give secret or secrets');
  const limit = options.maxBodyBytes ?? 5 * 1024 * 1024;
  const { toleranceSeconds, schemes } = options;
  const verifyOptions: VerifyOptions = { ...(toleranceSeconds !== undefined ? { toleranceSeconds } : {}), ...(schemes ? { schemes } : {}) };

  return function hooklaneReceiverMiddleware(req: IncomingMessage, res: ServerResponse, next: Next): void {
    const request = req as MaybeParsed;
    rawBodyOf(request, limit).then(
      (body) => {
        let envelope: WebhookEnvelope;
        try {
          envelope = verifyWebhook(secrets, req.headers, body, verifyOptions);
        } catch (err) {
          if (err instanceof WebhookVerificationError) return answer(res, 400, err.reason, err.message);
          return next(err);
        }
        Object.assign(request, { hooklaneEvent: envelope, body: envelope, rawBody: body });
        next();
      },
      (err: unknown) => {
        if (err instanceof BodyTooLarge) {
          answer(res, 413, 'body_too_large', `body larger than ${limit} bytes`);
          req.destroy();
          return;
        }
        next(err);
      },
    );
  };
}
