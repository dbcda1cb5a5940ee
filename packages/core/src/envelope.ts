/**
 * The body a receiver gets. It is serialised once per delivery and stored, because
 * signatures cover the exact bytes and the contract promises identical bytes on every
 * attempt; re-serialising on retry could reorder keys or change number formatting.
 */

export interface EnvelopeInput {
  eventId: string;
  event: string;
  timestamp: Date | string;
  teamId: number;
  projectId: number | null;
  webhookId: string;
  data: unknown;
  sender: object | null;
}

/** The parsed shape of an envelope, as a receiver sees it. */
export interface Envelope {
  id: string;
  event: string;
  timestamp: string;
  team_id: number;
  project_id: number | null;
  webhook_id: string;
  data: unknown;
  sender: object | null;
}

function toIsoTimestamp(value: Date | string): string {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new RangeError(`Invalid envelope timestamp: ${String(value)}`);
  }
  return date.toISOString();
}

export function buildEnvelope(input: EnvelopeInput): Buffer {
  // Key order is part of the contract; object literal order is what JSON.stringify emits.
  const envelope: Envelope = {
    id: input.eventId,
    event: input.event,
    timestamp: toIsoTimestamp(input.timestamp),
    team_id: input.teamId,
    project_id: input.projectId ?? null,
    webhook_id: input.webhookId,
    // An undefined value would silently drop the key and break the fixed shape.
    data: input.data === undefined ? {} : input.data,
    sender: input.sender ?? null,
  };
  return Buffer.from(JSON.stringify(envelope), 'utf8');
}
