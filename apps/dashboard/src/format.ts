export function when(iso: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function minutesLeft(expiresAt: number, now = Date.now()): number {
  return Math.max(0, Math.round((expiresAt - now) / 60_000));
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
