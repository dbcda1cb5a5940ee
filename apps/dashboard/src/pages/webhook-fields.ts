import type { Webhook, WebhookInput } from '../api/types';

/** The form's text state: one string or boolean per contract field. */
export interface FormState {
  url: string;
  events: string[];
  project_id: string;
  headers: string;
  secret: string;
  retries_count: string;
  retries_delay: string;
  retry_backoff: 'fixed' | 'exponential';
  follow_redirect: boolean;
  reject_unauthorized: boolean;
  timeout: string;
  content_type: string;
  description: string;
  is_active: boolean;
  rate_limit: string;
  ordering: 'none' | 'fifo';
}

/** Defaults and rules as the contract states them, shown beside each field. */
export const RULES: Record<keyof FormState, string> = {
  url: 'Required. http or https, at most 2048 characters.',
  events: 'Required. Event types from the catalog, or "*" alone for all. Ctrl/Shift or Space to pick several.',
  project_id: 'Empty (null, the default): every project of the team.',
  headers: 'One "Name: value" per line [none]. May not set Content-Type, Content-Length, Host, User-Agent, webhook-*, X-Webhook-*, X-Signature-256 or X-Hub-Signature.',
  secret: '8 to 256 characters [generated: whsec_ + base64 of 24 random bytes]. A whsec_ secret must continue with base64 of 16 to 64 bytes.',
  retries_count: 'Integer 0 to 20 [5]: retries after the first attempt.',
  retries_delay: 'Seconds 0 to 86400 [10] between attempts.',
  retry_backoff: '"fixed" or "exponential" [fixed]: exponential doubles the delay each retry, capped at 1 hour.',
  follow_redirect: 'Follow up to 5 redirects [on].',
  reject_unauthorized: 'Verify TLS certificates [on].',
  timeout: 'Seconds 1 to 60 [10] per attempt.',
  content_type: '"application/json" [same]; kept for CVAT compatibility.',
  description: 'Up to 1000 characters [empty].',
  is_active: 'An inactive webhook receives nothing [on]. Turning it on clears disabled_reason.',
  rate_limit: 'Deliveries per second, or empty for no limit [empty]. Deliveries over it wait.',
  ordering: '"none" or "fifo" [none]: fifo delivers one at a time per ordering line (the event\'s ordering_key), in the order the events were accepted, each with X-Webhook-Sequence.',
};

export function emptyForm(projectId: number | null): FormState {
  return {
    url: '',
    events: [],
    project_id: projectId === null ? '' : String(projectId),
    headers: '',
    secret: '',
    retries_count: '5',
    retries_delay: '10',
    retry_backoff: 'fixed',
    follow_redirect: true,
    reject_unauthorized: true,
    timeout: '10',
    content_type: 'application/json',
    description: '',
    is_active: true,
    rate_limit: '',
    ordering: 'none',
  };
}

export function formOf(w: Webhook): FormState {
  return {
    ...emptyForm(w.project_id),
    url: w.url,
    events: w.events,
    headers: Object.entries(w.headers)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n'),
    retries_count: String(w.retries_count),
    retries_delay: String(w.retries_delay),
    retry_backoff: w.retry_backoff,
    follow_redirect: w.follow_redirect,
    reject_unauthorized: w.reject_unauthorized,
    timeout: String(w.timeout),
    content_type: w.content_type,
    description: w.description,
    is_active: w.is_active,
    rate_limit: w.rate_limit === null ? '' : String(w.rate_limit),
    ordering: w.ordering,
  };
}

/** Numbers stay as typed when they are not numbers, so the API names the field in its 400. */
function num(text: string): number | string | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t;
}

export function parseHeaders(text: string): { headers: Record<string, string>; error?: string } {
  const headers: Record<string, string> = {};
  for (const [i, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return { headers, error: `Line ${i + 1} is not "Name: value".` };
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return { headers };
}

/** The request body: every field, as the contract names it. */
export function inputOf(form: FormState, creating: boolean): WebhookInput | { error: string } {
  const { headers, error } = parseHeaders(form.headers);
  if (error) return { error };
  const body: Record<string, unknown> = {
    url: form.url.trim(),
    events: form.events,
    project_id: num(form.project_id) ?? null,
    headers,
    retries_count: num(form.retries_count),
    retries_delay: num(form.retries_delay),
    retry_backoff: form.retry_backoff,
    follow_redirect: form.follow_redirect,
    reject_unauthorized: form.reject_unauthorized,
    timeout: num(form.timeout),
    content_type: form.content_type,
    description: form.description,
    is_active: form.is_active,
    rate_limit: num(form.rate_limit) ?? null,
    ordering: form.ordering,
  };
  if (creating && form.secret.trim()) body.secret = form.secret.trim();
  for (const key of Object.keys(body)) if (body[key] === undefined) delete body[key];
  return body as WebhookInput;
}
