import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/client';
import type { TestResult } from '../api/types';
import { usePortal } from '../context';
import { errorText } from '../format';
import { Field, errorsByField } from './Field';

// Over 60 lines: payload checks, the call and the answer's markup belong together.
/** Send one signed `ping` now, with an optional JSON payload, and show the receiver's answer. */
export function TestPanel({ id }: { id: string }) {
  const { client, announce } = usePortal();
  const [payload, setPayload] = useState('');
  const [result, setResult] = useState<TestResult | null>(null);
  const [errors, setErrors] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);

  async function send(e: FormEvent) {
    e.preventDefault();
    setErrors([]);
    let body: object | undefined;
    if (payload.trim()) {
      try {
        body = JSON.parse(payload) as object;
      } catch {
        setErrors(['Not valid JSON.']);
        return;
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) {
        setErrors(['Must be a JSON object.']);
        return;
      }
    }
    setBusy(true);
    setResult(null);
    try {
      const r = await client.testWebhook(id, body);
      setResult(r);
      announce(r.success ? `Test delivered: HTTP ${r.status_code}` : `Test failed: ${r.error ?? `HTTP ${r.status_code}`}`);
    } catch (err) {
      const byField = err instanceof ApiError ? errorsByField(err.details) : {};
      setErrors(byField.payload ?? [errorText(err)]);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="panel" aria-labelledby="test-title">
      <h2 id="test-title">Test ping</h2>
      <form onSubmit={send} noValidate>
        <Field name="payload" hint='Optional JSON object sent as data; empty sends {"webhook": …}.' errors={errors}>
          {(props) => <textarea {...props} rows={4} spellCheck={false} className="code" placeholder='{"hello": "world"}' value={payload} onChange={(e) => setPayload(e.target.value)} />}
        </Field>
        <button type="submit" disabled={busy}>{busy ? 'Sending…' : 'Send test'}</button>
      </form>
      {result && (
        <div className="result" data-testid="test-result" aria-live="polite">
          <p>
            <span className={result.success ? 'badge ok' : 'badge bad'}>{result.success ? 'success' : 'failed'}</span>{' '}
            status_code: <strong>{result.status_code ?? '—'}</strong> · duration_ms: {result.duration_ms}
            {result.error && <> · error: <strong>{result.error}</strong></>}
          </p>
          <p>response_body:</p>
          <pre>{result.response_body ?? '(none)'}</pre>
        </div>
      )}
    </section>
  );
}
