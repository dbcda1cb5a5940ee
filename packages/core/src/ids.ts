import { randomBytes } from 'node:crypto';

/**
 * Opaque ids such as `evt_01JKA8W5Q0V3M4N5P6R7S8T9V0`: a ULID (48-bit ms time + 80
 * random bits, Crockford base32) behind a type prefix. Because the time comes first,
 * ids sort by creation, which keyset pagination ("newest first") relies on.
 */

export type IdPrefix = 'wh' | 'evt' | 'dlv' | 'att' | 'key';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10;
const RANDOM_BYTES = 10;
const MAX_TIME = 2 ** 48 - 1;
const BODY = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

// Within one millisecond the random part is incremented instead of redrawn, so ids
// made in a burst still sort in creation order (ULID "monotonic" mode).
let lastTime = -1;
let lastRandom: Buffer = Buffer.alloc(RANDOM_BYTES);

function encodeTime(ms: number): string {
  let out = '';
  let rest = ms;
  for (let i = 0; i < TIME_CHARS; i++) {
    out = ALPHABET.charAt(rest % 32) + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function encodeRandom(bytes: Buffer): string {
  let value = BigInt(`0x${bytes.toString('hex')}`);
  let out = '';
  for (let i = 0; i < 16; i++) {
    out = ALPHABET.charAt(Number(value & 31n)) + out;
    value >>= 5n;
  }
  return out;
}

/** Adds one to a big-endian number in place; returns false when it wrapped around. */
function increment(bytes: Buffer): boolean {
  for (let i = bytes.length - 1; i >= 0; i--) {
    const next = (bytes[i] ?? 0) + 1;
    bytes[i] = next & 0xff;
    if (next <= 0xff) return true;
  }
  return false;
}

function nextUlid(): string {
  // A clock that steps back must not make a newer id sort before an older one.
  let time = Math.max(Date.now(), lastTime);
  if (time === lastTime) {
    const random = Buffer.from(lastRandom);
    if (increment(random)) {
      lastRandom = random;
    } else {
      time += 1;
      lastRandom = randomBytes(RANDOM_BYTES);
    }
  } else {
    lastRandom = randomBytes(RANDOM_BYTES);
  }
  if (time > MAX_TIME) throw new RangeError('clock beyond the ULID range');
  lastTime = time;
  return encodeTime(time) + encodeRandom(lastRandom);
}

export function newId(prefix: IdPrefix | (string & {})): string {
  return `${prefix}_${nextUlid()}`;
}

/** Cheap shape check, so a malformed id in a URL can be answered 404 without a query. */
export function isId(prefix: IdPrefix | (string & {}), s: unknown): s is string {
  if (typeof s !== 'string' || s.length !== prefix.length + 27) return false;
  if (!s.startsWith(`${prefix}_`)) return false;
  return BODY.test(s.slice(prefix.length + 1));
}

/** When an id was made, from its time part; null for something that is not an id. */
export function idTimestamp(id: string): Date | null {
  const underscore = id.lastIndexOf('_');
  const body = id.slice(underscore + 1);
  if (!BODY.test(body)) return null;
  let ms = 0;
  for (const char of body.slice(0, TIME_CHARS)) ms = ms * 32 + ALPHABET.indexOf(char);
  return new Date(ms);
}
