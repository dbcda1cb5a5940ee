/** One failing field of a 400, as the API names it. */
export interface ErrorDetail {
  path: string;
  message: string;
}

/**
 * A non-2xx answer from the API, with the contract's error body (`status`, `code`,
 * `message`, `details`). Network failures and timeouts are HooklaneErrors too, with
 * `status` 0 and `code` `network_error` or `timeout`, the original error as `cause`.
 */
export class HooklaneError extends Error {
  override readonly name = 'HooklaneError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Which check of verifyWebhook failed; never says which secret was tried. */
export type VerificationFailure =
  | 'missing_headers'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'no_matching_signature'
  | 'invalid_body';

export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';

  constructor(
    readonly reason: VerificationFailure,
    message: string,
  ) {
    super(message);
  }
}
