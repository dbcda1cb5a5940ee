import { describe, it, expect } from '@jest/globals';
import { ID_BLOCK_SIZE, idInBlock, idTimestamp, isId, newId, newIdBlock } from '../src/index.js';

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

describe('newIdBlock', () => {
  it('reserves ids that are valid, distinct and sort between the ids made before and after', () => {
    const before = newId('dlv');
    const head = newIdBlock('dlv');
    const after = newId('dlv');
    const sample = [0, 1, 31, 32, 1023, 1024, 65_535, ID_BLOCK_SIZE - 1].map((n) => idInBlock(head, n));
    for (const id of sample) {
      expect(isId('dlv', id)).toBe(true);
      expect(before < id && id < after).toBe(true);
    }
    expect([...sample].sort()).toEqual(sample);
    expect(new Set(sample).size).toBe(sample.length);
    expect(() => idInBlock(head, ID_BLOCK_SIZE)).toThrow(RangeError);
  });

  it('does not overlap when taken in a burst within one millisecond', () => {
    const heads = Array.from({ length: 200 }, () => newIdBlock('dlv'));
    const lasts = heads.map((head) => idInBlock(head, ID_BLOCK_SIZE - 1));
    for (let i = 1; i < heads.length; i++) expect(lasts[i - 1]! < idInBlock(heads[i]!, 0)).toBe(true);
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
