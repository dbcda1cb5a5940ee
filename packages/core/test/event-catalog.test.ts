import { describe, it, expect } from '@jest/globals';
import { z } from 'zod';
import {
  EVENT_TYPES,
  WILDCARD_EVENT,
  getEventType,
  isEventType,
  listEventTypes,
  validateEventData,
} from '../src/index.js';

const CONTRACT_TYPES = [
  'ping',
  'labeling_job.completed',
  'labeling_queue.job.completed',
  'labeling_queue.completed',
  ...['project', 'task', 'job', 'issue', 'comment'].flatMap((r) => [`create:${r}`, `update:${r}`, `delete:${r}`]),
  'label.created',
  'label.updated',
  'label.deleted',
  'webhook.disabled',
];

function example(type: string): Record<string, unknown> {
  const def = getEventType(type);
  if (!def) throw new Error(`no catalog entry for ${type}`);
  return structuredClone(def.example) as Record<string, unknown>;
}

/** The first required key of an object schema, found by walking the example. */
function requiredPath(schema: Record<string, unknown>, value: Record<string, unknown>): string[] {
  const required = (schema.required as string[] | undefined) ?? [];
  const key = required[0];
  if (key === undefined) return [];
  const child = (schema.properties as Record<string, Record<string, unknown>>)[key];
  const childValue = value[key];
  if (child && child.type === 'object' && childValue && typeof childValue === 'object') {
    const deeper = requiredPath(child, childValue as Record<string, unknown>);
    if (deeper.length > 0) return [key, ...deeper];
  }
  return [key];
}

function withoutPath(value: Record<string, unknown>, path: string[]): Record<string, unknown> {
  const copy = structuredClone(value);
  let node: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  delete node[path[path.length - 1] as string];
  return copy;
}

describe('event catalog', () => {
  it('holds every type the contract lists', () => {
    expect([...EVENT_TYPES].sort()).toEqual([...CONTRACT_TYPES].sort());
    for (const type of CONTRACT_TYPES) expect(isEventType(type)).toBe(true);
    expect(isEventType(WILDCARD_EVENT)).toBe(false);
    expect(isEventType('create:dataset')).toBe(false);
    expect(isEventType(42)).toBe(false);
    expect(getEventType('nope')).toBeUndefined();
  });

  it.each(CONTRACT_TYPES)('%s accepts its documented example', (type) => {
    const result = validateEventData(type, example(type));
    expect(result).toEqual({ ok: true, data: example(type) });
    expect(getEventType(type)?.description.length).toBeGreaterThan(10);
  });

  it.each(CONTRACT_TYPES.filter((t) => t !== 'ping'))(
    '%s rejects data missing a required field, naming its path',
    (type) => {
      const listing = listEventTypes().find((l) => l.type === type);
      const path = requiredPath(listing?.schema ?? {}, example(type));
      expect(path.length).toBeGreaterThan(0);
      const result = validateEventData(type, withoutPath(example(type), path));
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.issues).toContainEqual({ path: path.join('.'), message: 'Required' });
    },
  );

  it('ping accepts any object and rejects anything else at the root', () => {
    expect(validateEventData('ping', {}).ok).toBe(true);
    expect(validateEventData('ping', { anything: [1, 2] }).ok).toBe(true);
    for (const bad of [null, 'hello', 3, [1]]) {
      const result = validateEventData('ping', bad);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.issues[0]?.path).toBe('');
    }
  });

  it('names nested paths dot-joined', () => {
    const data = example('labeling_job.completed');
    (data.completed_by as Record<string, unknown>).user_id = 'seven';
    const result = validateEventData('labeling_job.completed', data);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issues).toEqual([{ path: 'completed_by.user_id', message: expect.any(String) }]);
    }
  });

  it('reports the specific missing nested fields', () => {
    expect(validateEventData('label.created', { id: 'lbl', data_row: {} })).toMatchObject({
      ok: false,
      issues: [{ path: 'data_row.id' }],
    });
    expect(validateEventData('update:task', { task: { id: 1 } })).toMatchObject({
      ok: false,
      issues: [{ path: 'before_update' }],
    });
    expect(validateEventData('delete:comment', { comment: { id: 1.5 } })).toMatchObject({
      ok: false,
      issues: [{ path: 'comment.id' }],
    });
  });

  it('passes extra fields through, at the top and nested', () => {
    const data: Record<string, unknown> = { ...example('labeling_job.completed'), added_later: { x: 1 } };
    (data.completed_by as Record<string, unknown>).email = 'a@example.com';
    const result = validateEventData('labeling_job.completed', data);
    expect(result).toEqual({ ok: true, data });
    const cvat = { task: { id: 15, name: 'n', labels: [{ id: 1 }] }, extra: true };
    expect(validateEventData('create:task', cvat)).toEqual({ ok: true, data: cvat });
  });

  it('accepts any reason string for webhook.disabled', () => {
    for (const reason of ['gone', 'failing', 'something-new']) {
      expect(validateEventData('webhook.disabled', { webhook_id: 'wh_1', reason }).ok).toBe(true);
    }
    expect(validateEventData('webhook.disabled', { webhook_id: 12, reason: 'gone' }).ok).toBe(false);
  });

  it('reports an unknown type as a failure rather than throwing', () => {
    expect(validateEventData('no.such.type', {})).toMatchObject({ ok: false, issues: [{ path: '' }] });
  });
});

describe('listEventTypes', () => {
  it('returns a JSON Schema for every type that agrees with the zod schema', () => {
    const list = listEventTypes();
    expect(list.map((l) => l.type)).toEqual([...EVENT_TYPES]);
    for (const { type, description, schema } of list) {
      expect(description).toBe(getEventType(type)?.description);
      expect(schema.type).toBe('object');
      expect(schema.$schema).toMatch(/json-schema\.org/);
      // Serialisable as is, which is how the API will send it.
      expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
      // The JSON Schema, read back, accepts the example and rejects a non-object.
      const roundTrip = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
      expect(roundTrip.safeParse(example(type)).success).toBe(true);
      expect(roundTrip.safeParse('not an object').success).toBe(false);
    }
  });

  it('documents required fields and the extra-fields policy', () => {
    const job = listEventTypes().find((l) => l.type === 'labeling_job.completed');
    expect(job?.schema.required).toEqual(
      expect.arrayContaining(['job_id', 'job_name', 'project_id', 'dataset_id', 'status', 'completed_by']),
    );
    expect(job?.schema.additionalProperties).toEqual({});
  });

  it('computes the schemas once and cannot be changed by a caller', () => {
    const first = listEventTypes();
    first.pop();
    const second = listEventTypes();
    expect(second).toHaveLength(EVENT_TYPES.length);
    expect(second[0]?.schema).toBe(listEventTypes()[0]?.schema);
    expect(Object.isFrozen(second[0]?.schema)).toBe(true);
  });
});
