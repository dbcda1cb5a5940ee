/** The contract's JSON objects (snake_case), as the public API returns them. */

export interface Webhook {
  id: string;
  team_id: number;
  project_id: number | null;
  url: string;
  events: string[];
  headers: Record<string, string>;
  retries_count: number;
  retries_delay: number;
  retry_backoff: 'fixed' | 'exponential';
  follow_redirect: boolean;
  reject_unauthorized: boolean;
  timeout: number;
  content_type: string;
  description: string;
  is_active: boolean;
  rate_limit: number | null;
  ordering: 'none' | 'fifo';
  created_at: string;
  updated_at: string;
  last_status: number | null;
  last_delivery_at: string | null;
  disabled_reason: string | null;
}

export type WebhookInput = Partial<Omit<Webhook, 'id' | 'created_at' | 'updated_at' | 'last_status' | 'last_delivery_at' | 'disabled_reason'>> & {
  secret?: string;
};

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'cancelled';

export interface Delivery {
  id: string;
  webhook_id: string;
  event_id: string;
  event: string;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  next_attempt_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface Attempt {
  attempt: number;
  started_at: string;
  duration_ms: number;
  status_code: number | null;
  response_body: string | null;
  error: string | null;
}

export interface DeliveryDetail extends Delivery {
  attempt_log: Attempt[];
}

export interface TestResult {
  delivery_id: string;
  success: boolean;
  status_code: number | null;
  response_body: string | null;
  duration_ms: number;
  error: string | null;
}

export interface EventType {
  type: string;
  description: string;
}

export interface ErrorDetail {
  path: string;
  message: string;
}
