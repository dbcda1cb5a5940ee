import { randomBytes } from 'node:crypto';

/**
 * Opaque ids such as `evt_01JKA8W5Q0V3M4N5P6R7S8T9V0`: a ULID (48-bit ms time + 80
 * random bits, Crockford base32) behind a type prefix. Because the time comes first,
 * ids sort by creation, which keyset pagination ("newest first") relies on.
 */

export type IdPrefix = 'wh' | 'evt' | 'dlv' | 'att' | 'key';

/** Crockford base32, the digits of every id (SQL that numbers ids uses the same table). */
export const ID_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ALPHABET = ID_ALPHABET;
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

/** Eight base32 characters of a 40-bit number (exact in a double, unlike 80 bits). */
function encode40(value: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < 8; i++) {
    out = ALPHABET.charAt(rest % 32) + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

// 80 bits split into two 40-bit halves: a BigInt per id cost 2-3% of the API's CPU.
function encodeRandom(bytes: Buffer): string {
  const high = (bytes[0] ?? 0) * 2 ** 32 + bytes.readUInt32BE(1);
  const low = (bytes[5] ?? 0) * 2 ** 32 + bytes.readUInt32BE(6);
  return encode40(high) + encode40(low);
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

/** How many ids one `newIdBlock` reserves: the last four characters count through them. */
export const ID_BLOCK_SIZE = 2 ** 20;
/** The base32 characters that count through a block (5 bits each): id n = head + n in this many digits. */
export const ID_BLOCK_COUNTER_CHARS = 4;

/** Sets (or clears) the 20 lowest bits of the random part: the block's counter. */
function fillCounter(bytes: Buffer, ones: boolean): void {
  bytes[9] = ones ? 0xff : 0;
  bytes[8] = ones ? 0xff : 0;
  bytes[7] = ((bytes[7] ?? 0) & 0xf0) | (ones ? 0x0f : 0);
}

/**
 * Reserves `ID_BLOCK_SIZE` consecutive ids and returns their common head (`prefix_` and 22
 * characters); id n of the block is the head plus n in four base32 characters. Every id of the
 * block sorts after every id made before and before every id made after, so SQL can number the
 * rows it creates (a fan-out whose size only the database knows) without another round trip.
 */
export function newIdBlock(prefix: IdPrefix | (string & {})): string {
  let time = Math.max(Date.now(), lastTime);
  let start: Buffer | undefined;
  if (time === lastTime) {
    // The first counter-zero value above the last id issued.
    const next = Buffer.from(lastRandom);
    fillCounter(next, true);
    if (increment(next)) start = next;
    else time += 1;
  }
  if (!start) {
    start = randomBytes(RANDOM_BYTES);
    fillCounter(start, false);
  }
  if (time > MAX_TIME) throw new RangeError('clock beyond the ULID range');
  const end = Buffer.from(start);
  fillCounter(end, true);
  lastTime = time;
  lastRandom = end;
  return `${prefix}_${encodeTime(time)}${encodeRandom(start).slice(0, 12)}`;
}

/** Id `n` of a block from `newIdBlock` (what the SQL side computes; here for tests). */
export function idInBlock(head: string, n: number): string {
  if (!Number.isInteger(n) || n < 0 || n >= ID_BLOCK_SIZE) throw new RangeError('outside the id block');
  return head + encode40(n).slice(8 - ID_BLOCK_COUNTER_CHARS);
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
