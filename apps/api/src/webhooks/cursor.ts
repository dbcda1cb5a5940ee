import { isId } from '@hooklane/core';

/**
 * A page cursor is the (created_at, id) of the last row of the page, base64url-encoded
 * so that clients treat it as opaque. Keyset pagination on that pair, rather than an
 * offset, means rows added while a client pages through neither repeat nor vanish.
 */
export interface CursorPosition {
  createdAt: Date;
  id: string;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.id])).toString('base64url');
}

/** The position a cursor holds, or null when it is not one this API made. */
export function decodeCursor(cursor: string, idPrefix: string): CursorPosition | null {
  if (cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length !== 2) return null;
  const [time, id] = value as unknown[];
  if (typeof time !== 'string' || !isId(idPrefix, id)) return null;
  const createdAt = new Date(time);
  if (Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== time) return null;
  return { createdAt, id };
}
