import { useEffect, useState } from 'react';
import type { Delivery, DeliveryStatus } from '../api/types';
import { usePortal } from '../context';
import { errorText, when } from '../format';
import { href } from '../route';
import { Field } from './Field';

const STATUSES: DeliveryStatus[] = ['pending', 'succeeded', 'failed', 'cancelled'];

// Over 60 lines: mostly the markup of the table.
/** A webhook's deliveries, newest first, with a status filter and keyset paging. */
export function DeliveriesPanel({ id }: { id: string }) {
  const { client } = usePortal();
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const [cursors, setCursors] = useState<string[]>([]);
  const [page, setPage] = useState<{ data: Delivery[]; next_cursor: string | null } | null>(null);
  const [error, setError] = useState('');
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    client.listDeliveries(id, { status, limit: 20, cursor: cursors[cursors.length - 1] }).then(setPage, (err) => setError(errorText(err)));
  }, [client, id, status, cursors, reloads]);

  return (
    <section className="panel" aria-labelledby="dlv-title">
      <div className="heading-row">
        <h2 id="dlv-title">Deliveries</h2>
        <button type="button" className="secondary" onClick={() => setReloads((n) => n + 1)}>Refresh</button>
      </div>
      <Field name="status" hint="Show only deliveries in this state.">
        {(props) => (
          <select
            {...props}
            value={status}
            onChange={(e) => {
              setCursors([]);
              setStatus(e.target.value as DeliveryStatus | '');
            }}
          >
            <option value="">any</option>
            {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        )}
      </Field>
      {error && <p className="error-box" role="alert">{error}</p>}
      {page && page.data.length === 0 && <p>No deliveries{status ? ` with status ${status}` : ''}.</p>}
      {page && page.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">Deliveries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">delivery</th>
                <th scope="col">event</th>
                <th scope="col">status</th>
                <th scope="col">attempts</th>
                <th scope="col">last code</th>
                <th scope="col">created</th>
              </tr>
            </thead>
            <tbody>
              {page.data.map((d) => (
                <tr key={d.id}>
                  <td><a href={href({ page: 'delivery', id: d.id })}>{d.id}</a></td>
                  <td>{d.event}</td>
                  <td><span className={`badge ${d.status}`}>{d.status}</span></td>
                  <td>{d.attempts}</td>
                  <td>{d.last_status_code ?? '—'}</td>
                  <td>{when(d.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav className="pager" aria-label="Delivery pages">
        <button type="button" className="secondary" disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>Previous page</button>
        <button type="button" className="secondary" disabled={!page?.next_cursor} onClick={() => page?.next_cursor && setCursors((c) => [...c, page.next_cursor as string])}>Next page</button>
      </nav>
    </section>
  );
}
