import type { ErrorDetail } from '../http/errors.js';
import { UNSTORABLE_CHAR } from '../http/storable-text.js';

/**
 * JSON that parses fine in Node but that PostgreSQL's jsonb refuses: a NUL character or
 * an unpaired UTF-16 surrogate in any string or key, or nesting deep enough to hit its
 * stack limit. Caught here so that such input is the client's 400, not our 500.
 */
export const MAX_JSON_DEPTH = 64;


function childPath(path: string, key: string | number): string {
  return path === '' ? String(key) : `${path}.${key}`;
}

export function unstorableJsonDetail(value: unknown, path: string): ErrorDetail | undefined {
  // Iterative, so hostile nesting cannot overflow our own stack either.
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item.value === 'string') {
      if (UNSTORABLE_CHAR.test(item.value)) {
        return { path: item.path, message: 'Strings may not contain NUL characters or unpaired surrogates' };
      }
      continue;
    }
    if (item.value === null || typeof item.value !== 'object') continue;
    if (item.depth >= MAX_JSON_DEPTH) {
      return { path: item.path, message: `Nested deeper than ${MAX_JSON_DEPTH} levels` };
    }
    if (Array.isArray(item.value)) {
      item.value.forEach((child, index) =>
        stack.push({ value: child, path: childPath(item.path, index), depth: item.depth + 1 }),
      );
      continue;
    }
    for (const [key, child] of Object.entries(item.value)) {
      if (UNSTORABLE_CHAR.test(key)) {
        return { path: item.path, message: 'Keys may not contain NUL characters or unpaired surrogates' };
      }
      stack.push({ value: child, path: childPath(item.path, key), depth: item.depth + 1 });
    }
  }
  return undefined;
}
