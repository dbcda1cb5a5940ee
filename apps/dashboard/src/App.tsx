import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { HooklaneClient } from './api/client';
import type { EventType } from './api/types';
import { Portal, type PortalContext } from './context';
import { minutesLeft } from './format';
import { DeliveryPage } from './pages/DeliveryPage';
import { SignIn } from './pages/SignIn';
import { WebhookForm } from './pages/WebhookForm';
import { WebhookList } from './pages/WebhookList';
import { WebhookPage } from './pages/WebhookPage';
import { href, useRoute } from './route';
import { loadSession, saveSession, takeTokenFromFragment, type Session } from './session';

function initialSession(): { session: Session | null; notice: string } {
  const fromFragment = takeTokenFromFragment();
  if (fromFragment) {
    saveSession(fromFragment);
    return { session: fromFragment, notice: '' };
  }
  return { session: loadSession(), notice: '' };
}

// Over 60 lines because it is the shell: session, expiry timer and page switch in one place.
export function App() {
  const [{ session, notice }, setState] = useState(initialSession);
  const [eventTypes, setEventTypes] = useState<EventType[]>([]);
  const [status, setStatus] = useState('');
  const [now, setNow] = useState(Date.now());
  const route = useRoute();
  const mainRef = useRef<HTMLElement>(null);

  const signOut = useCallback((message: string) => {
    saveSession(null);
    setState({ session: null, notice: message });
  }, []);

  const client = useMemo(
    () =>
      session
        ? new HooklaneClient(session.token, (err) =>
            signOut(session.kind === 'portal' ? `Your session has ended (${err.message}). Ask for a new link.` : `Signed out: ${err.message}`),
          )
        : null,
    [session, signOut],
  );

  useEffect(() => {
    if (!client) return;
    client.eventTypes().then(setEventTypes, () => undefined);
  }, [client]);

  // Expiry: tick every 15 s, and sign out the moment the session ends.
  useEffect(() => {
    if (!session?.expiresAt) return;
    const tick = setInterval(() => setNow(Date.now()), 15_000);
    const end = setTimeout(() => signOut('Your session expired. Ask for a new link.'), Math.max(0, session.expiresAt - Date.now()));
    return () => {
      clearInterval(tick);
      clearTimeout(end);
    };
  }, [session, signOut]);

  // Move focus to the new page's main area so keyboard and screen-reader users land on it.
  useEffect(() => {
    mainRef.current?.focus();
  }, [route]);

  if (!session || !client) {
    return (
      <SignIn
        notice={notice}
        onSignIn={(s) => {
          saveSession(s);
          setState({ session: s, notice: '' });
        }}
      />
    );
  }

  const ctx: PortalContext = { client, session, eventTypes, announce: setStatus };
  const left = session.expiresAt ? minutesLeft(session.expiresAt, now) : null;

  return (
    <Portal.Provider value={ctx}>
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); mainRef.current?.focus(); }}>
        Skip to content
      </a>
      <header className="top">
        <a className="brand" href={href({ page: 'list' })}>Hooklane webhooks</a>
        <p className="who">
          Team {session.teamId}
          {session.projectId !== null && <> · project {session.projectId}</>}
          {session.readOnly && <> · <strong>read only</strong></>}
          {session.expiresAt !== null && (
            <>
              {' '}· <span className={left !== null && left < 5 ? 'warn' : ''}>
                session ends <time dateTime={new Date(session.expiresAt).toISOString()}>{new Date(session.expiresAt).toLocaleTimeString()}</time> (in {left} min)
              </span>
            </>
          )}
        </p>
        <button type="button" className="secondary" onClick={() => signOut('Signed out.')}>Sign out</button>
      </header>
      <p className="status" role="status" aria-live="polite">{status}</p>
      <main id="main" ref={mainRef} tabIndex={-1}>
        {route.page === 'list' && <WebhookList />}
        {route.page === 'new' && <WebhookForm />}
        {route.page === 'edit' && <WebhookForm id={route.id} />}
        {route.page === 'webhook' && <WebhookPage id={route.id} />}
        {route.page === 'delivery' && <DeliveryPage id={route.id} />}
      </main>
    </Portal.Provider>
  );
}
