/**
 * Queue partitions on Redis Cluster (QUEUE_PARTITIONS). Pure arithmetic, no I/O.
 *
 * Redis Cluster puts a key in slot CRC16(key) mod 16384, where only the part inside the
 * first non-empty `{...}` counts when there is one (the hash tag). All keys of one BullMQ
 * queue must share a slot (its Lua scripts touch several), so each partition's queue lives
 * under its own hash tag. The tag of partition p of N is chosen so that its slot falls in
 * the p-th of N equal slot ranges: `redis-cli --cluster create` gives each of M masters an
 * equal range, so N = M partitions land one per master and N = k·M spread k per master.
 */

export const CLUSTER_SLOTS = 16_384;

// CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0), the checksum Redis Cluster uses.
const CRC16_TABLE: readonly number[] = Array.from({ length: 256 }, (_, byte) => {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  return crc;
});

export function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc;
}

/** The cluster slot of a key, hash tags included: what `CLUSTER KEYSLOT key` answers. */
export function keySlot(key: string): number {
  const bytes = new TextEncoder().encode(key);
  const open = bytes.indexOf(0x7b); // '{'
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1); // '}'
    if (close > open + 1) return crc16(bytes.subarray(open + 1, close)) % CLUSTER_SLOTS;
  }
  return crc16(bytes) % CLUSTER_SLOTS;
}

export interface SlotRange {
  /** First slot of the range. */
  start: number;
  /** One past the last slot. */
  end: number;
}

/** The p-th of N equal ranges of the 16,384 slots. */
export function partitionSlotRange(partition: number, partitions: number): SlotRange {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > CLUSTER_SLOTS) {
    throw new RangeError(`partitions must be an integer from 1 to ${CLUSTER_SLOTS}, got ${partitions}`);
  }
  if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
    throw new RangeError(`partition must be an integer from 0 to ${partitions - 1}, got ${partition}`);
  }
  return {
    start: Math.floor((partition * CLUSTER_SLOTS) / partitions),
    end: Math.floor(((partition + 1) * CLUSTER_SLOTS) / partitions),
  };
}

/**
 * The hash tag (without braces) of partition p of N: the first `p<p>-<k>` whose slot lies in
 * the middle half of its range when the range is wide enough, so a cluster whose masters
 * split the slots one slot differently (redis-cli rounds its own way) still puts it on the
 * intended master. Deterministic: every process computes the same tags.
 */
export function partitionHashTag(partition: number, partitions: number): string {
  const { start, end } = partitionSlotRange(partition, partitions);
  const margin = Math.floor((end - start) / 4);
  const [low, high] = [start + margin, end - margin];
  for (let k = 0; ; k++) {
    const tag = `p${partition}-${k}`;
    const slot = keySlot(tag);
    if (slot >= low && slot < high) return tag;
  }
}

/**
 * The partition a webhook's deliveries go to: FNV-1a of its id, mod N. Stable across
 * processes and restarts, so a webhook's jobs and its gate keys always share one slot.
 */
export function webhookPartition(webhookId: string, partitions: number): number {
  if (partitions <= 1) return 0;
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(webhookId)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}
