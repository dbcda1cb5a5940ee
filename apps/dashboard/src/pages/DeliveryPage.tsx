import { useEffect, useState } from 'react';
import type { DeliveryDetail } from '../api/types';
import { usePortal } from '../context';
import { errorText, when } from '../format';
import { href, navigate } from '../route';

// Over 60 lines: mostly the markup of the attempt timeline.
/** One delivery and its attempt log as a timeline; redeliver makes a new delivery. */
export function DeliveryPage({ id }: { id: string }) {
  const { client, session, announce } = usePortal();
  const [delivery, setDelivery] = useState<DeliveryDetail | null>(null);
  const [error, setError] = useState('');
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    setError('');
    client.getDelivery(id).then(setDelivery, (err) => setError(errorText(err)));
  }, [client, id, reloads]);

  async function redeliver() {
    try {
      const made = await client.redeliver(id);
      announce(`Redelivery ${made.id} queued.`);
      navigate({ page: 'delivery', id: made.id });
    } catch (err) {
      setError(errorText(err));
    }
  }

  if (error && !delivery) return <p className="error-box" role="alert">{error}</p>;
  if (!delivery) return <p>Loading…</p>;

  return (
    <article aria-labelledby="dlv-page-title">
      <p><a href={href({ page: 'webhook', id: delivery.webhook_id })}>← Webhook</a></p>
      <h1 id="dlv-page-title" className="break">Delivery {delivery.id}</h1>
      <dl className="settings">
        <div><dt>status</dt><dd><span className={`badge ${delivery.status}`} data-testid="delivery-status">{delivery.status}</span></dd></div>
        <div><dt>event</dt><dd>{delivery.event} ({delivery.event_id})</dd></div>
        <div><dt>attempts</dt><dd>{delivery.attempts}</dd></div>
        <div><dt>last_status_code</dt><dd>{delivery.last_status_code ?? '—'}</dd></div>
        <div><dt>next_attempt_at</dt><dd>{when(delivery.next_attempt_at)}</dd></div>
        <div><dt>created_at</dt><dd>{when(delivery.created_at)}</dd></div>
      </dl>
      <div className="actions">
        <button type="button" className="secondary" onClick={() => setReloads((n) => n + 1)}>Refresh</button>
        {!session.readOnly && <button type="button" onClick={redeliver}>Redeliver</button>}
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      <h2>Attempt log</h2>
      {delivery.attempt_log.length === 0 && <p>No attempt yet.</p>}
      <ol className="timeline" aria-label="Attempt log">
        {delivery.attempt_log.map((a) => {
          const ok = a.status_code !== null && a.status_code >= 200 && a.status_code < 300 && !a.error;
          return (
            <li key={`${a.attempt}-${a.started_at}`} className={ok ? 'ok' : 'bad'} data-testid="attempt">
              <h3>
                Attempt {a.attempt}: <span className={ok ? 'badge ok' : 'badge bad'}>{a.status_code ?? 'no answer'}</span>
              </h3>
              <p>
                <time dateTime={a.started_at}>{when(a.started_at)}</time> · {a.duration_ms} ms
                {a.error && <> · error: <strong>{a.error}</strong></>}
              </p>
              {a.response_body && <pre>{a.response_body}</pre>}
            </li>
          );
        })}
      </ol>
    </article>
  );
}
