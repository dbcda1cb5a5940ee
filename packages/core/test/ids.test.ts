import { describe, it, expect } from '@jest/globals';
import { idTimestamp, isId, newId } from '../src/index.js';

describe('newId', () => {
  it('is the prefix, an underscore and 26 Crockford base32 characters', () => {
    for (const prefix of ['wh', 'evt', 'dlv', 'att', 'key', 'custom']) {
      const id = newId(prefix);
      expect(id).toMatch(new RegExp(`^${prefix}_[0-9A-HJKMNP-TV-Z]{26}$`));
      expect(isId(prefix, id)).toBe(true);
    }
  });

  it('sorts in creation order, even within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => newId('evt'));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('sorts across time and carries its creation time', async () => {
    const before = Date.now();
    const first = newId('dlv');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = newId('dlv');
    expect(first < second).toBe(true);
    const at = idTimestamp(first)?.getTime() ?? 0;
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
    expect(idTimestamp('nonsense')).toBeNull();
  });
});

describe('isId', () => {
  it('rejects malformed ids cheaply', () => {
    const id = newId('wh');
    expect(isId('wh', id)).toBe(true);
    expect(isId('evt', id)).toBe(false);
    expect(isId('wh', id.toLowerCase())).toBe(false);
    expect(isId('wh', `${id}0`)).toBe(false);
    expect(isId('wh', id.slice(0, -1))).toBe(false);
    expect(isId('wh', `${id.slice(0, -1)}U`)).toBe(false); // U is not in Crockford base32
    expect(isId('wh', 'wh_8ZZZZZZZZZZZZZZZZZZZZZZZZZ')).toBe(false); // beyond 48 bits of time
    expect(isId('wh', "wh_' OR 1=1 --")).toBe(false);
    expect(isId('wh', 42)).toBe(false);
    expect(isId('wh', undefined)).toBe(false);
  });
});
