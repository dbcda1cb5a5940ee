import { useEffect, useState } from 'react';

/**
 * Hash routes (#/webhooks/wh_...), so the API serves one HTML file at /portal and a reload
 * keeps the page; the fragment also never reaches the server.
 */
export type Route =
  | { page: 'list' }
  | { page: 'new' }
  | { page: 'webhook'; id: string }
  | { page: 'edit'; id: string }
  | { page: 'delivery'; id: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  let m = /^\/webhooks\/([^/]+)\/edit$/.exec(path);
  if (m?.[1]) return { page: 'edit', id: decodeURIComponent(m[1]) };
  if (path === '/webhooks/new') return { page: 'new' };
  m = /^\/webhooks\/([^/]+)$/.exec(path);
  if (m?.[1]) return { page: 'webhook', id: decodeURIComponent(m[1]) };
  m = /^\/deliveries\/([^/]+)$/.exec(path);
  if (m?.[1]) return { page: 'delivery', id: decodeURIComponent(m[1]) };
  return { page: 'list' };
}

export function href(route: Route): string {
  switch (route.page) {
    case 'list':
      return '#/';
    case 'new':
      return '#/webhooks/new';
    case 'webhook':
      return `#/webhooks/${encodeURIComponent(route.id)}`;
    case 'edit':
      return `#/webhooks/${encodeURIComponent(route.id)}/edit`;
    case 'delivery':
      return `#/deliveries/${encodeURIComponent(route.id)}`;
  }
}

export function navigate(route: Route): void {
  window.location.hash = href(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
