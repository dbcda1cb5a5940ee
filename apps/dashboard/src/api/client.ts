import type { Delivery, DeliveryDetail, DeliveryStatus, EventType, Page, TestResult, Webhook, WebhookInput } from './types';

/** A non-2xx answer, with the contract's error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Query = Record<string, string | number | boolean | undefined>;

function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/**
 * The small typed client the dashboard uses: only the public /v1 API, same origin.
 * `onUnauthorized` lets the app sign out when a session expires or a key is revoked.
 */
export class HooklaneClient {
  constructor(
    private readonly token: string,
    private readonly onUnauthorized: (error: ApiError) => void = () => undefined,
    private readonly base = '',
  ) {}

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(this.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      referrerPolicy: 'no-referrer',
      credentials: 'omit',
    });
    const text = await res.text();
    const parsed: unknown = text ? safeJson(text) : undefined;
    if (!res.ok) {
      const err = (parsed as { error?: { code?: string; message?: string; details?: ApiError['details'] } } | undefined)?.error;
      const error = new ApiError(res.status, err?.code ?? 'http_error', err?.message ?? `HTTP ${res.status}`, err?.details ?? []);
      if (res.status === 401) this.onUnauthorized(error);
      throw error;
    }
    return parsed as T;
  }

  eventTypes = () => this.request<{ data: EventType[] }>('GET', '/v1/event-types').then((r) => r.data);

  listWebhooks = (query: Query) => this.request<Page<Webhook>>('GET', withQuery('/v1/webhooks', query));
  getWebhook = (id: string) => this.request<Webhook>('GET', `/v1/webhooks/${encodeURIComponent(id)}`);
  createWebhook = (input: WebhookInput) => this.request<Webhook & { secret: string }>('POST', '/v1/webhooks', input);
  updateWebhook = (id: string, input: WebhookInput) => this.request<Webhook>('PATCH', `/v1/webhooks/${encodeURIComponent(id)}`, input);
  deleteWebhook = (id: string) => this.request<void>('DELETE', `/v1/webhooks/${encodeURIComponent(id)}`);
  getSecret = (id: string) => this.request<{ secret: string }>('GET', `/v1/webhooks/${encodeURIComponent(id)}/secret`);
  rotateSecret = (id: string) => this.request<{ secret: string }>('POST', `/v1/webhooks/${encodeURIComponent(id)}/secret/rotate`, {});
  testWebhook = (id: string, payload?: object) =>
    this.request<TestResult>('POST', `/v1/webhooks/${encodeURIComponent(id)}/test`, payload === undefined ? {} : { payload });
  recover = (id: string, since: string) => this.request<{ count: number }>('POST', `/v1/webhooks/${encodeURIComponent(id)}/recover`, { since });
  listDeliveries = (id: string, query: { status?: DeliveryStatus | ''; cursor?: string; limit?: number }) =>
    this.request<Page<Delivery>>('GET', withQuery(`/v1/webhooks/${encodeURIComponent(id)}/deliveries`, query));

  getDelivery = (id: string) => this.request<DeliveryDetail>('GET', `/v1/deliveries/${encodeURIComponent(id)}`);
  redeliver = (id: string) => this.request<Delivery>('POST', `/v1/deliveries/${encodeURIComponent(id)}/redeliver`);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
