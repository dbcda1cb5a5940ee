import { z } from 'zod';
import { decodeCursor, type CursorPosition } from '../webhooks/cursor.js';

/** A positive integer query parameter (query values arrive as strings). */
export const positiveIntParam = (max: number) =>
  z
    .string()
    .regex(/^\d{1,10}$/, 'Must be a positive integer')
    .transform(Number)
    .pipe(z.int().min(1).max(max));

/** `cursor`: the next_cursor of the previous page of the same list (ids with this prefix). */
export const cursorParam = (idPrefix: string) =>
  z
    .string()
    .transform((cursor, ctx): CursorPosition => {
      const position = decodeCursor(cursor, idPrefix);
      if (!position) {
        ctx.addIssue({ code: 'custom', message: 'Not a cursor from this API; pass next_cursor as returned' });
        return z.NEVER;
      }
      return position;
    })
    .optional()
    .meta({ description: 'next_cursor of the previous page' });
