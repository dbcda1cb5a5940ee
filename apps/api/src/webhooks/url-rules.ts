import { isPrivateLiteralHost } from '@hooklane/core';
import { z } from 'zod';
import { badRequest } from '../http/errors.js';

export const MAX_URL_LENGTH = 2048;

// Whitespace and control characters are silently stripped or encoded by URL parsers,
// so the URL a user sees would not be the one delivered to.
const UNSAFE_CHARACTERS = /[\s\x00-\x1f\x7f]/;

export const webhookUrlSchema = z
  .string()
  .min(1, 'Required')
  .max(MAX_URL_LENGTH, `At most ${MAX_URL_LENGTH} characters`)
  .superRefine((value, ctx) => {
    if (UNSAFE_CHARACTERS.test(value)) {
      ctx.addIssue({ code: 'custom', message: 'URL may not contain spaces or control characters' });
      return;
    }
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'Not a valid absolute URL' });
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: 'URL must use http or https' });
    } else if (url.username || url.password) {
      // Credentials in a URL end up in logs; a custom Authorization header is the place for them.
      ctx.addIssue({ code: 'custom', message: 'URL may not contain credentials; use the headers field instead' });
    } else if (!url.hostname) {
      ctx.addIssue({ code: 'custom', message: 'URL has no host' });
    }
  })
  .meta({ description: 'http or https, at most 2048 characters', examples: ['https://example.com/hooks/hooklane'] });

/**
 * Refuses a URL whose host is a loopback, private or link-local literal (or `localhost`)
 * unless ALLOW_PRIVATE_TARGETS is set. Names that resolve to such addresses are caught
 * by the worker at delivery time, since DNS can change after this check.
 */
export function assertTargetAllowed(url: string, allowPrivateTargets: boolean): void {
  if (allowPrivateTargets) return;
  if (isPrivateLiteralHost(new URL(url).hostname)) {
    throw badRequest('Webhook URL is not allowed', [
      {
        path: 'url',
        message:
          'URL points to a loopback, private or link-local address; the server must run with ALLOW_PRIVATE_TARGETS=true to deliver there',
      },
    ]);
  }
}
