import { useState } from 'react';
import { usePortal } from '../context';
import { errorText } from '../format';

/** Reveal (hidden by default) and rotate the signing secret. */
export function SecretPanel({ id }: { id: string }) {
  const { client, session, announce } = usePortal();
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function run(action: () => Promise<{ secret: string }>, done: string) {
    setBusy(true);
    setError('');
    try {
      setSecret((await action()).secret);
      announce(done);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="panel" aria-labelledby="secret-title">
      <h2 id="secret-title">Signing secret</h2>
      {secret === null ? <p>Hidden.</p> : <p><code className="secret" data-testid="secret">{secret}</code></p>}
      {secret === null ? (
        <button type="button" className="secondary" disabled={busy} onClick={() => run(() => client.getSecret(id), 'Secret revealed.')}>Reveal secret</button>
      ) : (
        <button type="button" className="secondary" onClick={() => setSecret(null)}>Hide secret</button>
      )}{' '}
      {!session.readOnly && (
        <button type="button" disabled={busy} onClick={() => run(() => client.rotateSecret(id), 'Secret rotated; the old one keeps signing for 24 hours.')}>Rotate secret</button>
      )}
      {!session.readOnly && <p className="hint">After a rotation, deliveries carry signatures for both secrets for 24 hours.</p>}
      {error && <p className="error" role="alert">{error}</p>}
    </section>
  );
}
