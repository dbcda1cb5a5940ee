import { z } from 'zod';

/**
 * Custom headers a webhook sends with every delivery. Names that Hooklane sets itself
 * (signatures, framing, identity) are refused, so a webhook can neither forge a
 * signature header nor corrupt the request.
 */

const EXACT_FORBIDDEN = new Set([
  'content-type',
  'content-length',
  'host',
  'user-agent',
  'x-signature-256',
  'x-hub-signature',
  // Framing and connection headers: letting a webhook set these would break the request itself.
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);
const FORBIDDEN_PREFIXES = ['webhook-', 'x-webhook-'];

export const MAX_HEADERS = 50;
export const MAX_HEADER_NAME_LENGTH = 256;
export const MAX_HEADER_VALUE_LENGTH = 8192;

// RFC 9110 token characters; anything else (spaces, colons, CR/LF) cannot be a header name.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// What Node accepts in a header value: no CR, LF, NUL or other control characters but tab.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export function isForbiddenHeaderName(name: string): boolean {
  const lower = name.toLowerCase();
  return EXACT_FORBIDDEN.has(lower) || FORBIDDEN_PREFIXES.some((prefix) => lower.startsWith(prefix));
}

export const headersSchema = z
  .record(z.string(), z.string())
  .superRefine((headers, ctx) => {
    const names = Object.keys(headers);
    if (names.length > MAX_HEADERS) {
      ctx.addIssue({ code: 'custom', message: `At most ${MAX_HEADERS} headers` });
    }
    const seen = new Set<string>();
    for (const [name, value] of Object.entries(headers)) {
      if (name.length === 0 || name.length > MAX_HEADER_NAME_LENGTH || !TOKEN.test(name)) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'Not a valid HTTP header name' });
        continue;
      }
      if (isForbiddenHeaderName(name)) {
        ctx.addIssue({ code: 'custom', path: [name], message: `Header "${name}" is set by Hooklane and may not be overridden` });
        continue;
      }
      const lower = name.toLowerCase();
      if (seen.has(lower)) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'Header names are case-insensitive; this one is given twice' });
      }
      seen.add(lower);
      if (value.length > MAX_HEADER_VALUE_LENGTH) {
        ctx.addIssue({ code: 'custom', path: [name], message: `Header value longer than ${MAX_HEADER_VALUE_LENGTH} characters` });
      } else if (!FIELD_VALUE.test(value)) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'Header value may not contain control characters (CR, LF, NUL)' });
      }
    }
  })
  .meta({
    description:
      'Sent with every delivery. May not set Content-Type, Content-Length, Host, User-Agent, connection/framing headers, ' +
      'or any webhook-*, X-Webhook-*, X-Signature-256 or X-Hub-Signature header.',
    examples: [{ Authorization: 'Bearer receiver-token' }],
  });
