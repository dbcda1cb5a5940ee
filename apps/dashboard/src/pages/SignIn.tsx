import { useState, type FormEvent } from 'react';
import { HooklaneClient, ApiError } from '../api/client';
import { Field } from '../components/Field';
import { sessionFromPortalToken, type Session } from '../session';

/** Sign in with a team key (and its team id), or paste a portal session token. */
export function SignIn({ notice, onSignIn }: { notice: string; onSignIn(session: Session): void }) {
  const [key, setKey] = useState('');
  const [teamId, setTeamId] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError('');
    const token = key.trim();
    const portal = sessionFromPortalToken(token);
    const team = Number(teamId);
    if (!portal && !(Number.isInteger(team) && team > 0)) {
      setError('Enter the team id this key belongs to.');
      return;
    }
    const session: Session = portal ?? { token, kind: 'key', teamId: team, projectId: null, readOnly: false, expiresAt: null };
    setBusy(true);
    try {
      // One cheap read proves the key works for this team before the dashboard opens.
      await new HooklaneClient(token).listWebhooks({ team_id: session.teamId, limit: 1 });
      onSignIn(session);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'This key is not valid.' : err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" className="signin">
      <h1>Hooklane webhooks</h1>
      {notice && <p className="notice" role="alert">{notice}</p>}
      <form onSubmit={submit} noValidate aria-describedby="signin-help">
        <p id="signin-help">Sign in with your team key. A platform can also open this page on a portal session link.</p>
        <Field name="team_key" label="Team key" hint="hlk_… (kept in this tab only)" errors={error ? [error] : []}>
          {(props) => <input {...props} type="password" autoComplete="off" value={key} onChange={(e) => setKey(e.target.value)} required />}
        </Field>
        <Field name="team_id" label="Team id" hint="the team this key belongs to">
          {(props) => <input {...props} inputMode="numeric" value={teamId} onChange={(e) => setTeamId(e.target.value)} />}
        </Field>
        <button type="submit" disabled={busy}>Sign in</button>
      </form>
    </main>
  );
}
