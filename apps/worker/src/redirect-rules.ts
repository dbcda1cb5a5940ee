import type { BeforeRedirectHook } from 'got';
import { TransientDeliveryError } from './errors.js';
import type { TargetGuard } from './target-guard.js';

/**
 * What a redirect may carry (contract, "Security rules (v1.1)"). A receiver's Location can
 * point anywhere, so a hop to another origin gets the delivery itself (body, Content-Type,
 * User-Agent, webhook-* / X-Webhook-* / signature headers) and none of the webhook's own
 * headers, whatever their names: those are credentials meant for the first receiver.
 * A hop from https to http would send all of it in cleartext and is refused, and so is a
 * target with credentials in its URL (got would send them as Authorization).
 */

const SERVICE_HEADER = /^(content-type|content-length|user-agent|webhook-.*|x-webhook-.*|x-signature-256|x-hub-signature)$/i;

export function keepServiceHeadersOnly(headers: Record<string, unknown>): void {
  for (const name of Object.keys(headers)) if (!SERVICE_HEADER.test(name)) delete headers[name];
}

export function redirectHook(guard: TargetGuard): BeforeRedirectHook {
  return (next, response) => {
    const from = new URL(response.url);
    const to = next.url as URL;
    // got copies the first URL's (empty) credentials over a same-origin target's, so read them
    // from the Location header itself, decoded the way got decodes it.
    const location = response.headers.location;
    const target = location ? new URL(Buffer.from(location, 'binary').toString(), from) : to;
    if (target.username !== '' || target.password !== '' || to.username !== '' || to.password !== '') {
      throw new TransientDeliveryError('redirect target has credentials');
    }
    if (from.protocol === 'https:' && to.protocol !== 'https:') throw new TransientDeliveryError('redirect downgrade refused');
    // IP-literal redirect targets skip DNS, so the guard's lookup never sees them.
    guard.checkUrl(to);
    if (from.origin !== to.origin) keepServiceHeadersOnly(next.headers);
  };
}
