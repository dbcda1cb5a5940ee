import { useEffect, useRef, useState } from 'react';
import type { Webhook } from '../api/types';
import { DeliveriesPanel } from '../components/DeliveriesPanel';
import { RecoverPanel } from '../components/RecoverPanel';
import { SecretPanel } from '../components/SecretPanel';
import { TestPanel } from '../components/TestPanel';
import { usePortal } from '../context';
import { errorText, when } from '../format';
import { href, navigate } from '../route';

// Over 60 lines: mostly markup; each action lives in its own panel component.
/** One webhook: its settings, and everything one does with it. */
export function WebhookPage({ id }: { id: string }) {
  const { client, session, announce } = usePortal();
  const [webhook, setWebhook] = useState<Webhook | null>(null);
  const [error, setError] = useState('');
  const [confirming, setConfirming] = useState(false);
  const cancelRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    client.getWebhook(id).then(setWebhook, (err) => setError(errorText(err)));
  }, [client, id]);

  useEffect(() => {
    if (confirming) cancelRef.current?.focus();
  }, [confirming]);

  if (error) return <p className="error-box" role="alert">{error}</p>;
  if (!webhook) return <p>Loading…</p>;

  async function remove() {
    try {
      await client.deleteWebhook(id);
      announce('Webhook deleted.');
      navigate({ page: 'list' });
    } catch (err) {
      setError(errorText(err));
    }
  }

  const rows: Array<[string, string]> = [
    ['id', webhook.id],
    ['url', webhook.url],
    ['events', webhook.events.join(', ')],
    ['is_active', String(webhook.is_active)],
    ['last_status', webhook.last_status === null ? '—' : String(webhook.last_status)],
    ['last_delivery_at', when(webhook.last_delivery_at)],
    ['disabled_reason', webhook.disabled_reason ?? '—'],
    ['project_id', webhook.project_id === null ? 'null (every project)' : String(webhook.project_id)],
    ['headers', Object.keys(webhook.headers).length ? Object.entries(webhook.headers).map(([k, v]) => `${k}: ${v}`).join('; ') : '—'],
    ['retries_count', String(webhook.retries_count)],
    ['retries_delay', `${webhook.retries_delay} s`],
    ['retry_backoff', webhook.retry_backoff],
    ['timeout', `${webhook.timeout} s`],
    ['follow_redirect', String(webhook.follow_redirect)],
    ['reject_unauthorized', String(webhook.reject_unauthorized)],
    ['rate_limit', webhook.rate_limit === null ? 'none' : `${webhook.rate_limit}/s`],
    ['ordering', webhook.ordering],
    ['description', webhook.description || '—'],
  ];

  return (
    <article aria-labelledby="wh-title">
      <p><a href={href({ page: 'list' })}>← All webhooks</a></p>
      <h1 id="wh-title" className="break">{webhook.url}</h1>
      {!session.readOnly && (
        <div className="actions">
          <a className="button secondary" href={href({ page: 'edit', id })}>Edit</a>
          {!confirming && <button type="button" className="danger" onClick={() => setConfirming(true)}>Delete</button>}
        </div>
      )}
      {confirming && (
        <div className="confirm" role="alertdialog" aria-labelledby="confirm-title" aria-describedby="confirm-text">
          <h2 id="confirm-title">Delete this webhook?</h2>
          <p id="confirm-text">It stops receiving events at once and its pending deliveries are cancelled. This cannot be undone.</p>
          <button type="button" className="danger" onClick={remove}>Delete</button>{' '}
          <button type="button" className="secondary" ref={cancelRef} onClick={() => setConfirming(false)}>Cancel</button>
        </div>
      )}
      <dl className="settings">
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd className={k === 'disabled_reason' && webhook.disabled_reason ? 'warn' : ''}>{v}</dd>
          </div>
        ))}
      </dl>
      <SecretPanel id={id} />
      {!session.readOnly && <TestPanel id={id} />}
      {!session.readOnly && <RecoverPanel id={id} />}
      <DeliveriesPanel id={id} />
    </article>
  );
}
