import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError } from '../api/client';
import { errorsByField, Field } from '../components/Field';
import { usePortal } from '../context';
import { errorText } from '../format';
import { href, navigate } from '../route';
import { emptyForm, formOf, inputOf, RULES, type FormState } from './webhook-fields';

type Errors = Record<string, string[]>;

// Over 60 lines: one form of 17 fields; the rules and conversions live in webhook-fields.ts.
/** Create (no id) or edit a webhook: every contract field, labelled with its name. */
export function WebhookForm({ id }: { id?: string }) {
  const { client, session, eventTypes, announce } = usePortal();
  const [form, setForm] = useState<FormState>(() => emptyForm(session.projectId));
  const [errors, setErrors] = useState<Errors>({});
  const [loaded, setLoaded] = useState(!id);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ id: string; secret: string } | null>(null);
  const formRef = useRef<HTMLFormElement>(null);

  useEffect(() => {
    if (!id) return;
    client.getWebhook(id).then(
      (w) => {
        setForm(formOf(w));
        setLoaded(true);
      },
      (err) => setErrors({ _form: [errorText(err)] }),
    );
  }, [client, id]);

  // After a failed submit, take keyboard focus to the first field the API named.
  useEffect(() => {
    formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [errors]);

  if (session.readOnly) return <p>This session is read only.</p>;
  if (created) {
    return (
      <section aria-labelledby="created-title">
        <h1 id="created-title">Webhook created</h1>
        <p>Its signing secret, shown here once (you can reveal it later on the webhook page):</p>
        <p><code className="secret" data-testid="created-secret">{created.secret}</code></p>
        <a className="button" href={href({ page: 'webhook', id: created.id })}>Open the webhook</a>
      </section>
    );
  }

  const set = <K extends keyof FormState>(key: K, value: FormState[K]) => setForm((f) => ({ ...f, [key]: value }));
  const text = (key: keyof FormState, extra: { placeholder?: string; inputMode?: 'numeric' | 'url' } = {}) => (
    <Field name={key} hint={RULES[key]} errors={errors[key]}>
      {(props) => <input {...props} {...extra} type="text" value={form[key] as string} onChange={(e) => set(key, e.target.value as never)} />}
    </Field>
  );
  const check = (key: 'follow_redirect' | 'reject_unauthorized' | 'is_active') => (
    <Field name={key} hint={RULES[key]} errors={errors[key]}>
      {(props) => <input {...props} type="checkbox" checked={form[key]} onChange={(e) => set(key, e.target.checked)} />}
    </Field>
  );

  async function submit(e: FormEvent) {
    e.preventDefault();
    const input = inputOf(form, !id);
    if ('error' in input) {
      setErrors({ headers: [input.error] });
      return;
    }
    setBusy(true);
    setErrors({});
    try {
      if (id) {
        await client.updateWebhook(id, input);
        announce('Webhook saved.');
        navigate({ page: 'webhook', id });
      } else {
        const made = await client.createWebhook({ ...input, team_id: session.teamId });
        announce('Webhook created.');
        setCreated({ id: made.id, secret: made.secret });
      }
    } catch (err) {
      const details = err instanceof ApiError ? err.details : [];
      const byField = errorsByField(details);
      if (!details.length) byField._form = [errorText(err)];
      setErrors(byField);
      announce(`Not saved: ${details.length ? details.map((d) => `${d.path}: ${d.message}`).join('; ') : errorText(err)}`);
    } finally {
      setBusy(false);
    }
  }

  const formErrors = [...(errors._form ?? []), ...Object.entries(errors).filter(([k]) => k !== '_form' && !(k in RULES)).flatMap(([k, v]) => v.map((m) => `${k}: ${m}`))];

  return (
    <section aria-labelledby="form-title">
      <p><a href={id ? href({ page: 'webhook', id }) : href({ page: 'list' })}>← Back</a></p>
      <h1 id="form-title">{id ? 'Edit webhook' : 'New webhook'}</h1>
      {!loaded && !formErrors.length && <p>Loading…</p>}
      {formErrors.length > 0 && <div className="error-box" role="alert">{formErrors.map((m) => <p key={m}>{m}</p>)}</div>}
      {loaded && (
        <form ref={formRef} onSubmit={submit} noValidate className="webhook-form">
          {text('url', { placeholder: 'https://example.com/hooks', inputMode: 'url' })}
          <Field name="events" hint={RULES.events} errors={errors.events}>
            {(props) => (
              <select {...props} multiple size={8} value={form.events} onChange={(e) => set('events', Array.from(e.target.selectedOptions, (o) => o.value))}>
                <option value="*">* — every event type</option>
                {eventTypes.map((t) => (
                  <option key={t.type} value={t.type}>{`${t.type} — ${t.description}`}</option>
                ))}
              </select>
            )}
          </Field>
          <Field name="project_id" hint={session.projectId !== null ? `This session is limited to project ${session.projectId}.` : RULES.project_id} errors={errors.project_id}>
            {(props) => <input {...props} type="text" inputMode="numeric" readOnly={session.projectId !== null} value={form.project_id} onChange={(e) => set('project_id', e.target.value)} />}
          </Field>
          <Field name="headers" hint={RULES.headers} errors={errors.headers}>
            {(props) => <textarea {...props} rows={3} placeholder="X-Team: annotators" value={form.headers} onChange={(e) => set('headers', e.target.value)} />}
          </Field>
          {!id && text('secret')}
          <div className="row">
            {text('retries_count', { inputMode: 'numeric' })}
            {text('retries_delay', { inputMode: 'numeric' })}
            {text('timeout', { inputMode: 'numeric' })}
          </div>
          <Field name="retry_backoff" hint={RULES.retry_backoff} errors={errors.retry_backoff}>
            {(props) => (
              <select {...props} value={form.retry_backoff} onChange={(e) => set('retry_backoff', e.target.value as FormState['retry_backoff'])}>
                <option value="fixed">fixed</option>
                <option value="exponential">exponential</option>
              </select>
            )}
          </Field>
          <Field name="ordering" hint={RULES.ordering} errors={errors.ordering}>
            {(props) => (
              <select {...props} value={form.ordering} onChange={(e) => set('ordering', e.target.value as FormState['ordering'])}>
                <option value="none">none</option>
                <option value="fifo">fifo</option>
              </select>
            )}
          </Field>
          <div className="checks">
            {check('follow_redirect')}
            {check('reject_unauthorized')}
            {check('is_active')}
          </div>
          {text('rate_limit', { inputMode: 'numeric' })}
          <Field name="content_type" hint={RULES.content_type} errors={errors.content_type}>
            {(props) => (
              <select {...props} value={form.content_type} onChange={(e) => set('content_type', e.target.value)}>
                <option value="application/json">application/json</option>
              </select>
            )}
          </Field>
          <Field name="description" hint={RULES.description} errors={errors.description}>
            {(props) => <textarea {...props} rows={2} value={form.description} onChange={(e) => set('description', e.target.value)} />}
          </Field>
          <button type="submit" disabled={busy}>{id ? 'Save' : 'Create webhook'}</button>
        </form>
      )}
    </section>
  );
}
