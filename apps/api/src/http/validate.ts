import type { z } from 'zod';
import { badRequest, type ErrorDetail } from './errors.js';

export function zodDetails(error: z.ZodError): ErrorDetail[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

/** Parses input with a schema or throws a 400 whose details name every failing path. */
export function parse<S extends z.ZodType>(schema: S, input: unknown, what = 'Request body'): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw badRequest(`${what} is invalid`, zodDetails(result.error));
  return result.data;
}
