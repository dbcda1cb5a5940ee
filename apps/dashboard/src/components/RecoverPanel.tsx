import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/client';
import { usePortal } from '../context';
import { errorText } from '../format';
import { Field, errorsByField } from './Field';

function localInputValue(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** Deliver again every failed delivery of this webhook since a time. */
export function RecoverPanel({ id }: { id: string }) {
  const { client, announce } = usePortal();
  const [since, setSince] = useState(() => localInputValue(new Date(Date.now() - 24 * 3600_000)));
  const [errors, setErrors] = useState<string[]>([]);
  const [done, setDone] = useState<number | null>(null);

  async function recover(e: FormEvent) {
    e.preventDefault();
    setErrors([]);
    setDone(null);
    const date = new Date(since);
    if (Number.isNaN(date.getTime())) {
      setErrors(['Pick a date and time.']);
      return;
    }
    try {
      const { count } = await client.recover(id, date.toISOString());
      setDone(count);
      announce(`${count} failed deliveries queued again.`);
    } catch (err) {
      setErrors(err instanceof ApiError ? (errorsByField(err.details).since ?? [err.message]) : [errorText(err)]);
    }
  }

  return (
    <section className="panel" aria-labelledby="recover-title">
      <h2 id="recover-title">Recover failed deliveries</h2>
      <form onSubmit={recover} noValidate className="inline">
        <Field name="since" hint="Every failed delivery since then is delivered again (your local time)." errors={errors}>
          {(props) => <input {...props} type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} />}
        </Field>
        <button type="submit">Recover</button>
      </form>
      {done !== null && <p data-testid="recover-result">{done} deliveries queued again.</p>}
    </section>
  );
}
