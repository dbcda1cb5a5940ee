import { createContext, useContext } from 'react';
import type { HooklaneClient } from './api/client';
import type { EventType } from './api/types';
import type { Session } from './session';

export interface PortalContext {
  client: HooklaneClient;
  session: Session;
  eventTypes: EventType[];
  /** Announces a message to screen readers and shows it in the status bar. */
  announce(message: string): void;
}

export const Portal = createContext<PortalContext | null>(null);

export function usePortal(): PortalContext {
  const ctx = useContext(Portal);
  if (!ctx) throw new Error('usePortal outside <Portal.Provider>');
  return ctx;
}
