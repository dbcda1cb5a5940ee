import { z } from 'zod';
import { CVAT_RESOURCES, cvatBeforeUpdateExamples, cvatExamples, cvatSchema } from './event-catalog-cvat.js';

export { CVAT_RESOURCES, type CvatResource } from './event-catalog-cvat.js';

/**
 * The catalog of event types a team may emit. `data` schemas are loose on purpose:
 * the emitting platforms (Supervisely, CVAT, Labelbox) add fields over time, and a
 * receiver should get them, so only the fields a receiver relies on are required.
 */

/** Subscribing to this receives every event type, present and future. */
export const WILDCARD_EVENT = '*';

export interface EventTypeDefinition {
  readonly type: string;
  readonly description: string;
  /** Checks the event's `data` object (not the whole envelope). */
  readonly dataSchema: z.ZodType<Record<string, unknown>>;
  /** A `data` object that passes `dataSchema`; shown in docs and used by tests. */
  readonly example: Readonly<Record<string, unknown>>;
}

export interface EventTypeListing {
  readonly type: string;
  readonly description: string;
  /** JSON Schema (draft 2020-12) of `data`. */
  readonly schema: Readonly<Record<string, unknown>>;
}

export interface EventDataIssue {
  /** Dot-joined path inside `data`, e.g. `completed_by.user_id`; `""` for `data` itself. */
  readonly path: string;
  readonly message: string;
}

export type EventDataValidation =
  | { readonly ok: true; readonly data: Record<string, unknown> }
  | { readonly ok: false; readonly issues: EventDataIssue[] };

// Platform object ids (CVAT, Supervisely) are integers; Labelbox ids are cuid strings.
const intId = () => z.number().int();

const completedByUser = z.looseObject({
  user_id: intId(),
  user_login: z.string(),
});

const labelingJobCompleted = z.looseObject({
  job_id: intId(),
  job_name: z.string(),
  project_id: intId(),
  dataset_id: intId(),
  status: z.string(),
  completed_by: completedByUser,
});

const labelingQueueJobCompleted = z.looseObject({
  queue_id: intId(),
  job_id: intId(),
  project_id: intId(),
  dataset_id: intId(),
  status: z.string(),
});

const labelingQueueCompleted = z.looseObject({
  queue_id: intId(),
  queue_name: z.string(),
  total_jobs: z.number().int().nonnegative(),
  completed_jobs: z.number().int().nonnegative(),
  status: z.string(),
});

const labelEvent = z.looseObject({
  id: z.string().min(1),
  data_row: z.looseObject({ id: z.string().min(1) }),
});

const webhookDisabled = z.looseObject({
  webhook_id: z.string().min(1),
  // Kept open so that new reasons do not break receivers' or our own validation.
  reason: z.string().min(1).meta({ examples: ['gone', 'failing'] }),
});

const ping = z.looseObject({});

const labelExample = {
  id: 'clz1k2lbl000008l1a2b3c4d5',
  data_row: {
    id: 'clz1k2row000008l1e5f6g7h8',
    external_id: null,
    global_key: 'street-0001.jpg',
    row_data: 'https://storage.example.com/images/street-0001.jpg',
  },
  projects: {
    clz1k2prj000008l1i9j0k1l2: {
      project_name: 'Street scenes',
      labels: [{ id: 'clz1k2lbl000008l1a2b3c4d5', label_kind: 'Default' }],
    },
  },
};

/** `ping`, and Supervisely's labeling job and queue events. */
function pingAndSuperviselyDefinitions(): EventTypeDefinition[] {
  return [
    {
      type: 'ping',
      description:
        'A test delivery, sent by POST /v1/webhooks/:id/test or emitted by hand. Any object is accepted as data.',
      dataSchema: ping,
      example: { message: 'hello from Hooklane' },
    },
    {
      type: 'labeling_job.completed',
      description: 'A labeling job was completed (Supervisely).',
      dataSchema: labelingJobCompleted,
      example: {
        job_id: 789,
        job_name: 'Labeling Job #1',
        project_id: 456,
        dataset_id: 234,
        status: 'completed',
        completed_by: { user_id: 7, user_login: 'annotator' },
      },
    },
    {
      type: 'labeling_queue.job.completed',
      description: 'A job of a labeling queue was completed (Supervisely).',
      dataSchema: labelingQueueJobCompleted,
      example: { queue_id: 111, job_id: 789, project_id: 456, dataset_id: 234, status: 'completed' },
    },
    {
      type: 'labeling_queue.completed',
      description: 'Every job of a labeling queue was completed (Supervisely).',
      dataSchema: labelingQueueCompleted,
      example: {
        queue_id: 111,
        queue_name: 'My Labeling Queue',
        total_jobs: 50,
        completed_jobs: 50,
        status: 'completed',
      },
    },
  ];
}

/** CVAT's `create:`, `update:` and `delete:` of each resource; an update also carries `before_update`. */
function cvatDefinitions(): EventTypeDefinition[] {
  const defs: EventTypeDefinition[] = [];
  const verbs = [
    ['create', 'was created'],
    ['update', 'was updated'],
    ['delete', 'was deleted'],
  ] as const;
  for (const resource of CVAT_RESOURCES) {
    for (const [verb, happened] of verbs) {
      const isUpdate = verb === 'update';
      const example: Record<string, unknown> = { [resource]: cvatExamples[resource] };
      if (isUpdate) example.before_update = cvatBeforeUpdateExamples[resource];
      defs.push({
        type: `${verb}:${resource}`,
        description:
          `A ${resource} ${happened} (CVAT). data.${resource} holds the ${resource}` +
          (isUpdate ? '; data.before_update holds the changed fields with their old values.' : '.'),
        dataSchema: cvatSchema(resource, isUpdate),
        example,
      });
    }
  }
  return defs;
}

/** Labelbox's `label.created`, `label.updated` and `label.deleted`. */
function labelboxDefinitions(): EventTypeDefinition[] {
  return (['created', 'updated', 'deleted'] as const).map((verb) => ({
    type: `label.${verb}`,
    description: `A label was ${verb} (Labelbox). data.id is the label id; data.data_row is the labeled data row.`,
    dataSchema: labelEvent,
    example: labelExample,
  }));
}

const webhookDisabledDefinition: EventTypeDefinition = {
  type: 'webhook.disabled',
  description:
    'Hooklane turned a webhook of the team off: reason "gone" (the receiver answered 410) or "failing" (every delivery failed for 24 hours).',
  dataSchema: webhookDisabled,
  example: { webhook_id: 'wh_01JKA8W5Q0V3M4N5P6R7S8T9V0', reason: 'gone' },
};

/** Every event type, in the order `GET /v1/event-types` lists them. */
function buildCatalog(): EventTypeDefinition[] {
  return [...pingAndSuperviselyDefinitions(), ...cvatDefinitions(), ...labelboxDefinitions(), webhookDisabledDefinition];
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

const catalog: ReadonlyMap<string, EventTypeDefinition> = new Map(
  buildCatalog().map((def) => [def.type, Object.freeze({ ...def, example: deepFreeze(def.example) })]),
);

/** Every event type of the catalog, in catalog order. */
export const EVENT_TYPES: readonly string[] = Object.freeze([...catalog.keys()]);

export function isEventType(s: unknown): s is string {
  return typeof s === 'string' && catalog.has(s);
}

export function getEventType(type: string): EventTypeDefinition | undefined {
  return catalog.get(type);
}

/** Turns a zod path into the `a.b.0.c` form used in API error details. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  return path.map((part) => (typeof part === 'symbol' ? (part.description ?? '') : String(part))).join('.');
}

export function validateEventData(type: string, data: unknown): EventDataValidation {
  const def = catalog.get(type);
  if (!def) {
    return { ok: false, issues: [{ path: '', message: `Unknown event type "${type}"` }] };
  }
  // "Required" reads better in an API error than zod's "expected string, received undefined".
  const result = def.dataSchema.safeParse(data, {
    error: (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? 'Required' : undefined),
  });
  if (result.success) return { ok: true, data: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((issue) => ({
      path: formatIssuePath(issue.path),
      message: issue.message,
    })),
  };
}

let listing: readonly EventTypeListing[] | undefined;

/** The catalog as served by `GET /v1/event-types`; JSON Schemas are computed once. */
export function listEventTypes(): EventTypeListing[] {
  listing ??= [...catalog.values()].map((def) =>
    deepFreeze({
      type: def.type,
      description: def.description,
      schema: z.toJSONSchema(def.dataSchema) as Record<string, unknown>,
    }),
  );
  // A fresh array so a caller sorting or filtering it cannot change later answers.
  return [...listing];
}
