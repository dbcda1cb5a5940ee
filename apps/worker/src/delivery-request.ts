import { buildEnvelope, buildSignatureHeaders } from '@hooklane/core';
import type { DeliveryForAttempt } from '@hooklane/db';
import type { HttpAttemptRequest } from './deliver.js';
import { USER_AGENT } from './version.js';

// A webhook's own headers may never override these (the API refuses them; this is the backstop).
const RESERVED = /^(content-type|content-length|host|user-agent|webhook-.*|x-webhook-.*|x-signature-256|x-hub-signature|connection|transfer-encoding)$/i;

function customHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (!RESERVED.test(name)) out[name] = value;
  return out;
}

/**
 * The request of one attempt. The body is rebuilt from the stored event each time; the
 * envelope's timestamp is the event's, so the bytes (and the body signatures) are the same
 * on every attempt, while `webhook-timestamp` and its signature are of this attempt.
 */
export function buildDeliveryRequest(record: DeliveryForAttempt, attempt: number, now: Date): HttpAttemptRequest {
  const { delivery, webhook, event } = record;
  const body = buildEnvelope({
    eventId: event.id,
    event: event.type,
    timestamp: event.timestamp,
    teamId: event.teamId,
    projectId: event.projectId,
    webhookId: webhook.id,
    data: event.data,
    sender: event.sender,
  });
  const rotating = webhook.previousSecretExpiresAt !== null && webhook.previousSecretExpiresAt > now;
  const signatures = buildSignatureHeaders({
    eventId: event.id,
    timestampSeconds: Math.floor(now.getTime() / 1000),
    body,
    secret: webhook.secret,
    previousSecret: rotating ? webhook.previousSecret : null,
  });
  return {
    url: webhook.url,
    body,
    headers: {
      ...customHeaders(webhook.headers),
      'Content-Type': 'application/json',
      'User-Agent': USER_AGENT,
      ...signatures,
      'X-Webhook-Event': event.type,
      'X-Webhook-Delivery': delivery.id,
      'X-Webhook-Attempt': String(attempt),
      // Its place in its fifo line, the same on every attempt, so a receiver can spot a gap or a repeat.
      ...(delivery.line ? { 'X-Webhook-Sequence': String(delivery.line.sequence) } : {}),
    },
    timeoutMs: webhook.timeout * 1000,
    followRedirect: webhook.followRedirect,
    rejectUnauthorized: webhook.rejectUnauthorized,
  };
}
