import { useEffect, useState, type FormEvent } from 'react';
import type { Webhook } from '../api/types';
import { Field } from '../components/Field';
import { usePortal } from '../context';
import { errorText, when } from '../format';
import { href } from '../route';

interface Filters {
  is_active: string;
  event: string;
  project_id: string;
}

// Over 60 lines: mostly the markup of the filters and cards.
/** The team's webhooks with their state, filters, and keyset paging (cursor stack for Back). */
export function WebhookList() {
  const { client, session, eventTypes } = usePortal();
  const [draft, setDraft] = useState<Filters>({ is_active: '', event: '', project_id: '' });
  const [filters, setFilters] = useState<Filters>(draft);
  const [cursors, setCursors] = useState<string[]>([]);
  const [page, setPage] = useState<{ data: Webhook[]; next_cursor: string | null } | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    setError('');
    client
      .listWebhooks({
        team_id: session.teamId,
        limit: 20,
        is_active: filters.is_active || undefined,
        event: filters.event || undefined,
        project_id: filters.project_id || undefined,
        cursor: cursors[cursors.length - 1],
      })
      .then(setPage, (err) => setError(errorText(err)));
  }, [client, session.teamId, filters, cursors]);

  function apply(e: FormEvent) {
    e.preventDefault();
    setCursors([]);
    setFilters(draft);
  }

  return (
    <section aria-labelledby="list-title">
      <div className="heading-row">
        <h1 id="list-title">Webhooks</h1>
        {!session.readOnly && <a className="button" href={href({ page: 'new' })}>Create webhook</a>}
      </div>
      <form className="filters" onSubmit={apply} aria-label="Filter webhooks">
        <Field name="is_active" hint="">
          {(props) => (
            <select {...props} value={draft.is_active} onChange={(e) => setDraft({ ...draft, is_active: e.target.value })}>
              <option value="">any</option>
              <option value="true">active</option>
              <option value="false">inactive</option>
            </select>
          )}
        </Field>
        <Field name="event">
          {(props) => (
            <select {...props} value={draft.event} onChange={(e) => setDraft({ ...draft, event: e.target.value })}>
              <option value="">any</option>
              {eventTypes.map((t) => <option key={t.type} value={t.type}>{t.type}</option>)}
            </select>
          )}
        </Field>
        {session.projectId === null && (
          <Field name="project_id">
            {(props) => <input {...props} type="text" inputMode="numeric" value={draft.project_id} onChange={(e) => setDraft({ ...draft, project_id: e.target.value })} />}
          </Field>
        )}
        <button type="submit" className="secondary">Filter</button>
      </form>
      {error && <p className="error-box" role="alert">{error}</p>}
      {page && page.data.length === 0 && <p>No webhooks{filters.is_active || filters.event || filters.project_id ? ' match these filters' : ' yet'}.</p>}
      <ul className="cards">
        {page?.data.map((w) => (
          <li key={w.id} className="card">
            <h2><a href={href({ page: 'webhook', id: w.id })}>{w.url}</a></h2>
            <dl>
              <dt>is_active</dt>
              <dd><span className={w.is_active ? 'badge ok' : 'badge off'}>{w.is_active ? 'active' : 'inactive'}</span></dd>
              <dt>last_status</dt>
              <dd>{w.last_status ?? '—'}{w.last_delivery_at && <> at {when(w.last_delivery_at)}</>}</dd>
              {w.disabled_reason && (
                <>
                  <dt>disabled_reason</dt>
                  <dd className="warn">{w.disabled_reason}</dd>
                </>
              )}
              <dt>events</dt>
              <dd>{w.events.join(', ')}</dd>
              <dt>project_id</dt>
              <dd>{w.project_id ?? 'all'}</dd>
            </dl>
          </li>
        ))}
      </ul>
      <nav className="pager" aria-label="Webhook pages">
        <button type="button" className="secondary" disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>Previous page</button>
        <button type="button" className="secondary" disabled={!page?.next_cursor} onClick={() => page?.next_cursor && setCursors((c) => [...c, page.next_cursor as string])}>Next page</button>
      </nav>
    </section>
  );
}
