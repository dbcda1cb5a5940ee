import type { z } from 'zod';
import { badRequest, type ErrorDetail } from '../http/errors.js';

function joinPath(path: readonly PropertyKey[]): string {
  return path.map((part) => (typeof part === 'symbol' ? (part.description ?? '') : String(part))).join('.');
}

/**
 * Like http/validate.ts `parse`, but every unknown field gets a detail of its own whose
 * path is that field (so `retry_count` is named where a client looks for it), and a
 * missing value reads "Required" rather than zod's type message.
 */
export function detailsOf(error: z.ZodError): ErrorDetail[] {
  return error.issues.flatMap((issue): ErrorDetail[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: joinPath([...issue.path, key]), message: `Unknown field "${key}"` }));
    }
    return [{ path: joinPath(issue.path), message: issue.message }];
  });
}

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = 'Request body'): z.output<S> {
  const result = schema.safeParse(input, {
    error: (issue) => {
      if (issue.code !== 'invalid_type' || issue.input !== undefined) return undefined;
      return issue.path?.length ? 'Required' : `${what} is required`;
    },
  });
  if (!result.success) throw badRequest(`${what} is invalid`, detailsOf(result.error));
  return result.data;
}
