import { z } from 'zod';

/**
 * Characters PostgreSQL cannot hold in text or jsonb: NUL, and unpaired UTF-16 surrogates
 * (which UTF-8 cannot encode, so they would be stored silently replaced).
 */
export const UNSTORABLE_CHAR = /[\0\p{Cs}]/u;

export const UNSTORABLE_MESSAGE = 'May not contain NUL characters or unpaired surrogates';

/** A string that PostgreSQL stores as sent; anything else is the client's 400. */
export function storableString(): z.ZodString {
  return z.string().check(
    z.refine((value: string) => !UNSTORABLE_CHAR.test(value), UNSTORABLE_MESSAGE),
  ) as z.ZodString;
}
